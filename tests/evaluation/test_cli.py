"""`paw eval`: several models in one process, DIR:ADAPTER specs, and bad input as one line with exit 2."""

from __future__ import annotations

import argparse
import json

import pytest

from paw.cli import eval as cli_eval
from paw.cli import run_guarded


def paw_eval(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="paw")
    cli_eval.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["eval", *map(str, argv)])
    return run_guarded(lambda: args.func(args))


def test_several_models_one_directory_each(tiny_llama, tiny_qwen2, llama_lora, fixture_data, tmp_path, capsys):
    code = paw_eval("--model", tiny_llama, "--model", f"{tiny_llama}:{llama_lora}", "--model", tiny_qwen2,
                    "--dataset", "piqa", "--data-path", fixture_data["piqa"], "--out", tmp_path / "runs")
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert names == sorted([tiny_llama.name, f"{tiny_llama.name}+{llama_lora.name}", tiny_qwen2.name])
    base = json.loads((tmp_path / "runs" / tiny_llama.name / "metrics.json").read_text())
    adapted = json.loads((tmp_path / "runs" / f"{tiny_llama.name}+{llama_lora.name}" / "metrics.json").read_text())
    assert (base["adapter"], adapted["adapter"]) == (None, llama_lora.name)
    assert "acc" in capsys.readouterr().out


def test_adapters_with_the_same_dir_name_are_named_by_their_path(tiny_llama, llama_lora, fixture_data, tmp_path,
                                                                 capsys):
    import shutil

    for method in ("cross_lora", "aligned"):  # the pipeline's layout: every adapter dir is called `adapter`
        shutil.copytree(llama_lora, tmp_path / "runs" / method / "adapter")
    code = paw_eval("--model", f"{tiny_llama}:{tmp_path / 'runs/cross_lora/adapter'}",
                    "--model", f"{tiny_llama}:{tmp_path / 'runs/aligned/adapter'}", "--dataset", "piqa",
                    "--data-path", fixture_data["piqa"], "--out", tmp_path / "out")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"{tiny_llama.name}+aligned__adapter", f"{tiny_llama.name}+cross_lora__adapter"]
    out = capsys.readouterr().out
    assert f"{tiny_llama.name} + cross_lora/adapter on piqa" in out
    assert f"{tiny_llama.name} + aligned/adapter on piqa" in out


def test_adapter_labels_are_paths_below_the_common_root(tmp_path):
    from paw.cli.eval import adapter_labels

    a, b = tmp_path / "t" / "cross_lora" / "adapter", tmp_path / "t" / "aligned" / "control"
    assert adapter_labels([a, b]) == {a: "cross_lora/adapter", b: "aligned/control"}
    assert adapter_labels([a, a]) == {a: "adapter"}


def test_single_model_with_adapter_flag_writes_out_itself(tiny_llama, llama_lora, fixture_data, tmp_path):
    code = paw_eval("--model", tiny_llama, "--adapter", llama_lora, "--dataset", "winogrande",
                    "--data-path", fixture_data["winogrande"], "--prompt-style", "letter", "--out", tmp_path / "o")
    assert code == 0
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["prompt_style"] == "letter"


@pytest.mark.parametrize(("extra", "message"), [
    (["--dataset", "nope"], "not a known dataset"),
    # Named by the flag that gave the value, not by the library argument it fills.
    (["--dataset", "piqa", "--sample-ratio", "1.5"], "--sample-ratio 1.5 — expected a number in (0, 1]"),
    (["--dataset", "piqa", "--max-samples", "0"], "--max-samples 0 — expected"),
    (["--dataset", "piqa", "--batch-size", "0"], "--batch-size 0 — expected a positive integer"),
])
def test_bad_input_exit_2_one_line_no_output(tiny_llama, fixture_data, tmp_path, capsys, extra, message):
    code = paw_eval("--model", tiny_llama, "--data-path", fixture_data["piqa"], *extra, "--out", tmp_path / "o")
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_a_bad_second_model_stops_before_any_output(tiny_llama, tiny_qwen2, llama_lora, fixture_data, tmp_path,
                                                     capsys):
    code = paw_eval("--model", tiny_llama, "--model", f"{tiny_qwen2}:{llama_lora}", "--dataset", "piqa",
                    "--data-path", fixture_data["piqa"], "--out", tmp_path / "runs")
    assert code == 2 and "made for another base" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
