"""`train_from_params`: which rows train and validate, the prompt-style guard, and a run on real ARC rows."""

from __future__ import annotations

import json

import pytest

from paw.config import parse_params
from paw.errors import PawError

PROFILE = {
    "models_dir": ".", "source_model": "a", "target_model": "b", "train_batch_size": 4, "max_steps": 3,
    "eval_sample_ratio": 1.0, "eval_batch_size": 8,
}  # fmt: skip


def make_params(**sections):
    raw = {"env": "t", "envs": {"t": dict(PROFILE)}, "lora": {"r": 2}, **sections}
    return parse_params(raw)


def test_train_and_eval_prompt_styles_must_match():
    from paw.training.from_params import training_data

    params = make_params(train={"prompt_style": "letter"}, eval={"prompt_style": "cloze"})
    with pytest.raises(PawError, match="train.prompt_style = 'letter' but eval.prompt_style = 'cloze'"):
        training_data(params)


def test_train_split_with_validation_subset(benchmarks_dir):
    from paw.training.from_params import training_data

    params = make_params(
        data={"dataset": "arc-challenge", "data_path": str(benchmarks_dir / "arc_challenge"), "max_train_samples": 50},
        train={"val_samples": 10, "prompt_style": "letter"}, eval={"prompt_style": "letter"},
    )  # fmt: skip
    data = training_data(params)
    assert len(data.pairs) == 50 and len(data.val_items) == 10
    assert data.sources == ["arc-challenge:train (50 rows)"]
    context, answer = data.pairs[0]
    assert context.startswith("Question: ") and context.endswith("\nAnswer:") and answer in (" A", " B", " C", " D", " E")
    val_ids = {item.id for item in data.val_items}
    validation = [json.loads(line)["id"] for line in (benchmarks_dir / "arc_challenge" / "validation.jsonl").open()]
    assert val_ids <= set(validation)


def test_no_train_split_falls_back_to_validation_and_holds_out(benchmarks_dir, capsys):
    from paw.training.from_params import training_data

    params = make_params(data={"dataset": "piqa", "data_path": str(benchmarks_dir / "piqa"), "max_train_samples": 30},
                         train={"val_samples": 8})  # fmt: skip
    data = training_data(params)
    assert data.sources == ["piqa:validation (30 rows)"] and len(data.val_items) == 8
    assert "no train split" in capsys.readouterr().err
    held_out = {item.contexts[0] for item in data.val_items}
    assert len(held_out) == 8 and not held_out & {context for context, _ in data.pairs}


def test_mixture_reads_each_dataset_folder(benchmarks_dir):
    from paw.training.from_params import training_data

    params = make_params(
        data={"dataset": "arc-easy", "data_path": str(benchmarks_dir), "max_train_samples": 20,
              "train_datasets": ["arc-challenge", "winogrande"]},
        train={"val_samples": 5},
    )  # fmt: skip
    data = training_data(params)
    assert data.sources == ["arc-challenge:train (20 rows)", "winogrande:train (20 rows)"]
    assert len(data.pairs) == 40 and len(data.val_items) == 5  # validation from the evaluated dataset, arc-easy


def test_train_from_params_on_real_rows(tiny_qwen2, benchmarks_dir, tmp_path):
    from paw.training.from_params import train_from_params

    params = make_params(
        data={"dataset": "arc-challenge", "data_path": str(benchmarks_dir / "arc_challenge"), "max_train_samples": 24},
        train={"val_samples": 4, "max_length": 96},
    )  # fmt: skip
    metrics = train_from_params(params, tiny_qwen2, tmp_path / "adapter", tmp_path / "report", tmp_path / "ckpt")
    assert metrics["steps"] == 3 and metrics["train_examples"] == 24 and metrics["val_items"] == 4
    assert json.loads((tmp_path / "report" / "metrics.json").read_text())["steps"] == 3
    assert (tmp_path / "report" / "dvclive" / "metrics.json").is_file()
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
