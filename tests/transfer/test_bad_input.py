"""Bad input: each case is one PawError that names what is wrong and what was expected, and nothing is written."""

from __future__ import annotations

import argparse
import json
import shutil

import pytest
import torch

from paw.cli import run_guarded
from paw.errors import PawError
from paw.transfer.api import run_transfer


def _run(tiny_models, adapters, out, source="llama", target="qwen2", **kwargs):
    kwargs.setdefault("svd_rank", 16)
    return run_transfer(tiny_models[source], kwargs.pop("adapter", adapters[source]), kwargs.pop("target_dir", None)
                        or tiny_models[target], out, **kwargs)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"method": "lora_magic"}, "transfer.method = 'lora_magic' — expected one of activation, aligned, copy"),
        ({"threshold": 1.5}, r"transfer.threshold = 1.5 — expected a number in \[0, 1\]"),
        ({"threshold": -0.1}, r"transfer.threshold = -0.1 — expected a number in \[0, 1\]"),
        ({"svd_rank": 65}, "transfer.svd_rank = 65 — expected at most the hidden size 64 of llama"),
        ({"svd_rank": 0}, "transfer.svd_rank = 0 — expected a positive integer"),
        ({"options": {"activation": {"ridge": -1}}, "method": "activation"},
         "transfer.activation.ridge = -1 — expected a non-negative number"),
        ({"options": {"aligned": {"layer_map": "names"}}}, "transfer.aligned.layer_map = 'names' — expected one of"),
        ({"options": {"aligned": {"ridg": 1}}}, "transfer.aligned.ridg is not a known option of aligned"),
        ({"options": {"magic": {"x": 1}}}, "transfer.magic is not a known key"),
        ({"method": "activation"}, "needs probe text"),
    ],
)
def test_bad_settings(kwargs, message, tiny_models, adapters, tmp_path):
    with pytest.raises(PawError, match=message):
        _run(tiny_models, adapters, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_threshold_outside_range_in_params_yaml():
    from paw.config import load_params

    with pytest.raises(PawError, match=r"transfer.threshold = 2 — expected a number in \[0, 1\]"):
        load_params(overrides={"transfer.threshold": 2})


def test_missing_target_model(tiny_models, adapters, tmp_path):
    with pytest.raises(PawError, match="model directory not found"):
        _run(tiny_models, adapters, tmp_path / "out", target_dir=tmp_path / "nowhere")
    assert not (tmp_path / "out").exists()


def test_adapter_of_another_base(tiny_models, adapters, tmp_path):
    """By name: a qwen2 adapter given with the llama source."""
    with pytest.raises(PawError, match="adapter was trained on base 'qwen2', but the source model is 'llama'"):
        _run(tiny_models, adapters, tmp_path / "out", adapter=adapters["qwen2"])
    assert not (tmp_path / "out").exists()


def test_adapter_of_another_base_by_shape(tiny_models, adapters, tmp_path):
    """A qwen2 adapter relabelled as llama's still does not fit llama's modules."""
    relabelled = tmp_path / "relabelled"
    shutil.copytree(adapters["qwen2"], relabelled)
    config = json.loads((relabelled / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "llama"
    (relabelled / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(PawError, match="the adapter was made for another base"):
        _run(tiny_models, adapters, tmp_path / "out", adapter=relabelled)
    assert not (tmp_path / "out").exists()


def test_adapter_with_no_module_the_target_has(tiny_llama, tiny_qwen2, tmp_path):
    from paw.models import write_adapter

    # An adapter only on lm_head: no decoder-layer module of the target matches.
    vocab = json.loads((tiny_llama / "config.json").read_text())["vocab_size"]
    write_adapter(tmp_path / "head", {"lm_head": (torch.randn(4, 64), torch.randn(vocab, 4))}, 4, 8, "llama")
    with pytest.raises(PawError, match="the adapter has no module the target has"):
        run_transfer(tiny_llama, tmp_path / "head", tiny_qwen2, tmp_path / "out", svd_rank=16)
    assert not (tmp_path / "out").exists()


def test_stale_decomposition_is_refused(tiny_llama, tiny_qwen2, adapters, tmp_path):
    from paw.transfer.api import decompose

    decompose(tiny_llama, tmp_path / "svd", svd_rank=8)
    with pytest.raises(PawError, match="computed with transfer.svd_rank = 8, but transfer.svd_rank = 16"):
        run_transfer(tiny_llama, adapters["llama"], tiny_qwen2, tmp_path / "out", svd_rank=16,
                     source_svd_dir=tmp_path / "svd")
    with pytest.raises(PawError, match="computed for another base"):
        run_transfer(tiny_llama, adapters["llama"], tiny_qwen2, tmp_path / "out", svd_rank=8,
                     source_svd_dir=tmp_path / "svd", target_svd_dir=tmp_path / "svd")
    assert not (tmp_path / "out").exists()


def _cli(argv: list[str]) -> int:
    from paw.cli import transfer

    parser = argparse.ArgumentParser(prog="paw")
    transfer.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return run_guarded(lambda: args.func(args))


def test_cli_transfers_and_reports_errors_in_one_line(tiny_llama, tiny_gemma2, adapters, probe_file, tmp_path,
                                                      capsys):
    common = ["transfer", "--source-model", str(tiny_llama), "--source-adapter", str(adapters["llama"]),
              "--target-model", str(tiny_gemma2)]
    assert _cli([*common, "--out", str(tmp_path / "ok"), "--method", "activation", "--svd-rank", "8",
                 "--probe-file", str(probe_file), "--threshold", "0"]) == 0
    assert (tmp_path / "ok" / "adapter" / "adapter_model.safetensors").is_file()
    assert (tmp_path / "ok" / "diagnostics.json").is_file()
    capsys.readouterr()
    assert _cli([*common, "--out", str(tmp_path / "bad"), "--method", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "expected one of activation, aligned, copy, cross_lora, distill, projection" in err
    assert _cli([*common, "--out", str(tmp_path / "bad"), "--threshold", "3"]) == 2
    assert not (tmp_path / "bad").exists()


def test_cli_saves_a_carry_and_reselects_from_it(tiny_llama, tiny_gemma2, adapters, tmp_path, capsys):
    common = ["transfer", "--source-model", str(tiny_llama), "--source-adapter", str(adapters["llama"]),
              "--target-model", str(tiny_gemma2), "--method", "cross_lora", "--svd-rank", "8"]
    assert _cli([*common, "--out", str(tmp_path / "first"), "--carried", str(tmp_path / "carried")]) == 0
    assert (tmp_path / "carried" / "carried.json").is_file()
    assert _cli(["transfer", "--from-carried", str(tmp_path / "carried"), "--out", str(tmp_path / "again"),
                 "--no-control"]) == 0
    assert (tmp_path / "again" / "adapter").is_dir() and not (tmp_path / "again" / "control").exists()
    capsys.readouterr()
    # The carry fixed models, method and rank: naming them again is refused; so is a whole transfer without models.
    assert _cli(["transfer", "--from-carried", str(tmp_path / "carried"), "--out", str(tmp_path / "bad"),
                 "--svd-rank", "16", "--method", "aligned"]) == 2
    assert "--from-carried: --method, --svd-rank cannot be combined with it" in capsys.readouterr().err
    assert _cli(["transfer", "--source-model", str(tiny_llama), "--out", str(tmp_path / "bad")]) == 2
    assert "--source-adapter, --target-model required" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
