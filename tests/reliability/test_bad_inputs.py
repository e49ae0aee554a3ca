"""The bad-input matrix: each case exits non-zero with one line naming the key/path/field and what was expected,
shows no traceback, and leaves nothing in the output location."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import REPO_ROOT
from tests.pipeline.dvc_repo import merge_into
from tests.reliability.conftest import copy_without, paw, stage, write_jsonl


def assert_clean_failure(result, *fragments: str, out: Path | None = None) -> None:
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("paw: error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    if out is not None:
        assert not out.exists(), f"{out} was left behind"
        assert not list(out.parent.glob(f".tmp-{out.name}-*")), "a temporary output was left behind"


# ---- params.yaml, through a stage script as `dvc repro` runs it ----------------------------------------------------

PARAM_CASES = [
    ({"train": {"lrate": 1.0}}, "train.lrate is not a known key"),
    ({"lora": {"r": "big"}}, "lora.r = 'big' — expected a positive integer"),
    ({"envs": {"quick": {"eval_sample_ratio": 0}}}, "eval_sample_ratio = 0 — expected a number in (0, 1]"),
    ({"transfer": {"threshold": 1.5}}, "transfer.threshold = 1.5 — expected a number in [0, 1]"),
    ({"train": {"lr": -1.0}}, "train.lr = -1.0 — expected a number in (0, 1]"),
    ({"transfer": {"svd_rank": 0}}, "transfer.svd_rank = 0 — expected a positive integer"),
    ({"env": "laptop"}, "env = 'laptop' — expected the name of a block under envs"),
    ({"eval": {"prompt_style": "chat"}}, "eval.prompt_style = 'chat' — expected cloze or letter"),
    ({"data": {"dataset": "mmlu"}, "envs": {"quick": {"dataset": None}}}, "mmlu"),
    ({"envs": {"quick": {"models_dir": "/nonexistent/models"}}}, "/nonexistent/models/toy-source: model directory not found"),
]


@pytest.mark.parametrize(("change", "message"), PARAM_CASES, ids=[m.split(" ")[0] for _, m in PARAM_CASES])
def test_bad_params_stop_the_stage(tmp_path, change, message):
    yaml = YAML()
    data = yaml.load((REPO_ROOT / "params.yaml").read_text())
    merge_into(data, change)
    with (tmp_path / "params.yaml").open("w") as handle:
        yaml.dump(data, handle)
    result = stage("eval.py", "source_base", cwd=tmp_path)
    assert_clean_failure(result, message, out=tmp_path / "reports" / "eval" / "source_base")


# ---- models and adapters -------------------------------------------------------------------------------------------

def _eval(model, out, *extra):
    return paw("eval", "--model", str(model), "--dataset", "arc-easy", "--data-path", str(extra[0]), "--out", str(out),
               *extra[1:])


@pytest.fixture()
def arc_file(tmp_path, arc_rows):
    return write_jsonl(tmp_path / "arc.jsonl", arc_rows)


def test_model_dir_without_config(tmp_path, arc_file):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out"
    assert_clean_failure(_eval(tmp_path / "empty", out, arc_file), "config.json is missing", out=out)


def test_model_dir_without_weights(tiny_llama, tmp_path, arc_file):
    model = copy_without(tiny_llama, tmp_path / "m", "model.safetensors")
    out = tmp_path / "out"
    assert_clean_failure(_eval(model, out, arc_file), "no weights found", out=out)


def test_pickle_only_model_is_refused(tiny_llama, tmp_path, arc_file):
    model = copy_without(tiny_llama, tmp_path / "m", "model.safetensors")
    (model / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    out = tmp_path / "out"
    assert_clean_failure(_eval(model, out, arc_file), "pickle", out=out)


def test_model_without_tokenizer(tiny_llama, tmp_path, arc_file):
    model = copy_without(tiny_llama, tmp_path / "m", "tokenizer.json", "tokenizer_config.json")
    out = tmp_path / "out"
    assert_clean_failure(_eval(model, out, arc_file), "tokenizer", out=out)


def test_truncated_adapter(tiny_llama, llama_adapter, tmp_path, arc_file):
    import shutil

    adapter = Path(shutil.copytree(llama_adapter, tmp_path / "a"))
    weights = adapter / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    out = tmp_path / "out"
    assert_clean_failure(_eval(tiny_llama, out, arc_file, "--adapter", str(adapter)), "corrupt or truncated", out=out)


def test_adapter_for_another_base(tiny_qwen2, llama_adapter, tmp_path, arc_file):
    out = tmp_path / "out"
    result = _eval(tiny_qwen2, out, arc_file, "--adapter", str(llama_adapter))
    assert_clean_failure(result, "made for another base", out=out)


# ---- datasets ------------------------------------------------------------------------------------------------------

def test_empty_dataset_file(tiny_llama, tmp_path):
    out = tmp_path / "out"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert_clean_failure(_eval(tiny_llama, out, empty), "empty.jsonl", out=out)


def test_rows_missing_a_field(tiny_llama, tmp_path, arc_rows):
    rows = [dict(r) for r in arc_rows]
    del rows[3]["answerKey"]
    out = tmp_path / "out"
    assert_clean_failure(_eval(tiny_llama, out, write_jsonl(tmp_path / "d.jsonl", rows)), "answerKey", out=out)


def test_answer_key_not_among_labels(tiny_llama, tmp_path, arc_rows):
    rows = [dict(r) for r in arc_rows]
    rows[2]["answerKey"] = "Z"
    out = tmp_path / "out"
    assert_clean_failure(_eval(tiny_llama, out, write_jsonl(tmp_path / "d.jsonl", rows)), "Z", out=out)


def test_sample_ratio_out_of_range(tiny_llama, tmp_path, arc_file):
    out = tmp_path / "out"
    assert_clean_failure(_eval(tiny_llama, out, arc_file, "--sample-ratio", "0"), "sample", out=out)


def test_unknown_dataset_lists_known(tiny_llama, tmp_path):
    out = tmp_path / "out"
    result = paw("eval", "--model", str(tiny_llama), "--dataset", "mmlu", "--out", str(out))
    assert_clean_failure(result, "mmlu", "arc-challenge", out=out)


# ---- training and transfer -----------------------------------------------------------------------------------------

def test_nan_loss_stops_training_naming_the_step(tiny_llama, tmp_path, arc_file):
    from safetensors.torch import load_file, save_file

    import shutil

    model = Path(shutil.copytree(tiny_llama, tmp_path / "nan"))
    tensors = load_file(model / "model.safetensors")
    name = next(k for k in tensors if "embed_tokens" in k)
    tensors[name][:] = float("nan")
    save_file(tensors, model / "model.safetensors", metadata={"format": "pt"})
    out = tmp_path / "out"
    result = paw("train", "--model", str(model), "--dataset", "arc-easy", "--data-path", str(arc_file),
                 "--out", str(out), "--max-steps", "3", "--batch-size", "2")
    assert_clean_failure(result, "step", out=out)


def test_unknown_transfer_method_lists_known(tiny_llama, llama_adapter, tiny_qwen2, tmp_path):
    out = tmp_path / "out"
    result = paw("transfer", "--source-model", str(tiny_llama), "--source-adapter", str(llama_adapter),
                 "--target-model", str(tiny_qwen2), "--out", str(out), "--method", "magic")
    assert_clean_failure(result, "magic", "cross_lora", out=out)


def test_rank_larger_than_a_dimension(tiny_llama, llama_adapter, tmp_path):
    out = tmp_path / "out"
    result = paw("transfer", "--source-model", str(tiny_llama), "--source-adapter", str(llama_adapter),
                 "--target-model", str(tiny_llama), "--out", str(out), "--method", "projection",
                 "--svd-rank", "100000")
    assert_clean_failure(result, "rank", out=out)


def test_output_path_not_writable(tiny_llama, tmp_path, arc_file):
    out = Path("/proc/paw-cannot-write-here/out")
    result = _eval(tiny_llama, out, arc_file)
    assert_clean_failure(result, "/proc/paw-cannot-write-here")


def test_metrics_are_json_that_a_later_stage_can_trust(tiny_llama, tmp_path, arc_file):
    """The good path of the same command, so the failures above are failures of the input, not of the command."""
    out = tmp_path / "out"
    result = _eval(tiny_llama, out, arc_file)
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "metrics.json").read_text())["n"] == 12
