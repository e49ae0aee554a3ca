"""`train_from_params`: the training stage's library call — params.yaml in, adapter and metrics out.

Which rows train: the task's `train` split; where a benchmark has none (PIQA and BoolQ in local copies that hold
only validation), its `validation` split, with a warning that the evaluation then scores items the LoRA was trained
on. Validation (loss and accuracy during training) uses a seeded subset of the `validation` split, or — when that
split is also the training split, or the data is one file — a seeded subset held out of the training rows.
Several `data.train_datasets` make a mixture; validation then comes from the evaluated `dataset`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paw.data import get_task, sample_indices, sample_rows
from paw.errors import PawError
from paw.training.params import check_prompt_styles
from paw.training.run import TrainSetup, train_lora


@dataclass(frozen=True)
class TrainingData:
    pairs: list[tuple[str, str]]  # (context, gold continuation) per training example
    val_items: list[Any]  # paw.data Items scored for validation accuracy
    sources: list[str]  # "<task>:<split> (<n> rows)" per training source, for metrics and logs


def setup_from_params(params) -> TrainSetup:
    return TrainSetup.from_params(params)


def _split_source(task, data_path: str | Path | None, split: str) -> bool:
    """Whether `split` exists for the task at data_path (the hub copies of every known task have train and
    validation; a local directory has what its files say; a single file stands for every split)."""
    if data_path is None:
        return split in ("train", "validation") or split == task.default_split
    path = Path(data_path)
    if path.is_file():
        return True
    return any((path / f"{split}{suffix}").is_file() for suffix in (".jsonl", ".json", ".parquet"))


def _task_data_path(data_path: str | None, name: str, mixture: bool) -> str | None:
    """One task's data: data_path itself, or in a mixture data_path/<name> (or <name> with _ for -)."""
    if data_path is None or not mixture:
        return data_path
    for candidate in (Path(data_path) / name, Path(data_path) / name.replace("-", "_")):
        if candidate.exists():
            return str(candidate)
    raise PawError(
        f"data.data_path = {data_path!r}: no {name} or {name.replace('-', '_')} inside — expected one folder per "
        "dataset of data.train_datasets"
    )


def _rows_for_training(task, data_path, seed: int, val_samples: int) -> tuple[list, list, str]:
    """(train rows, validation rows, train split name) for one task, per the module docstring."""
    single_file = data_path is not None and Path(data_path).is_file()
    train_split = "train" if _split_source(task, data_path, "train") else "validation"
    if train_split == "validation" and not _split_source(task, data_path, "validation"):
        raise PawError(f"{data_path}: {task.name} has neither a train nor a validation split — expected train.jsonl")
    rows = task.load_rows(train_split, data_path)
    if train_split == task.default_split or (single_file and not _is_train_file(data_path)):
        print(
            f"note: {task.name} has no train split here — training on its {train_split} split, which the "
            "evaluation also scores: its accuracy is then not a held-out measure",
            file=sys.stderr,
        )
    if train_split == "train" and not single_file and _split_source(task, data_path, "validation"):
        return rows, task.load_rows("validation", data_path), train_split
    # No separate validation rows: hold a seeded subset out of the training rows.
    n_held = min(val_samples, len(rows) // 5)  # never more than a fifth of the training rows
    held = set(sample_indices(len(rows), 1.0, n_held, seed)) if n_held else set()
    return [r for i, r in enumerate(rows) if i not in held], [rows[i] for i in sorted(held)], train_split


def _is_train_file(path) -> bool:
    return Path(path).name.split(".")[0] == "train"


def training_data(params) -> TrainingData:
    """Training pairs and validation items from params.dataset / data_path / data.train_datasets."""
    check_prompt_styles(params)
    style, seed, val_samples = params.prompt_style, params.seed, params.train.val_samples
    names = list(params.data.train_datasets) or [params.dataset]
    mixture = bool(params.data.train_datasets)
    pairs: list[tuple[str, str]] = []
    sources, val_rows, val_task = [], None, None
    for name in names:
        task = get_task(name)
        task_path = _task_data_path(params.data_path, name, mixture)
        rows, held_val, split = _rows_for_training(task, task_path, seed, val_samples)
        if params.data.max_train_samples is not None:
            rows = sample_rows(rows, 1.0, params.data.max_train_samples, seed)
        for index, row in enumerate(rows):
            item = task.to_item(row, index, style)
            pairs.append((item.contexts[item.gold], item.continuations[item.gold]))
        sources.append(f"{name}:{split} ({len(rows)} rows)")
        if name == params.dataset or val_task is None:
            val_rows, val_task = held_val, task
    if mixture and params.dataset not in names:
        val_task = get_task(params.dataset)
        val_path = _task_data_path(params.data_path, params.dataset, True)
        val_rows = _rows_for_training(val_task, val_path, seed, val_samples)[1]
    # Mixture order does not matter: batches are drawn by seeded permutation over all pairs.
    val_rows = sample_rows(val_rows, 1.0, val_samples, seed) if val_rows else []
    val_items = [val_task.to_item(row, index, style) for index, row in enumerate(val_rows)]
    return TrainingData(pairs, val_items, sources)


def train_from_params(params, model_dir, adapter_out, report_dir, checkpoint_dir) -> dict:
    """Train the LoRA the params describe on `model_dir`; writes adapter_out, report_dir/metrics.json and
    report_dir/dvclive/; resumes from checkpoint_dir. Returns the metrics."""
    data = training_data(params)
    metrics = train_lora(
        model_dir, data.pairs, data.val_items, adapter_out, report_dir, checkpoint_dir, setup_from_params(params),
        extra_metrics={"train_sources": data.sources, "train_examples": len(data.pairs),
                       "val_items": len(data.val_items)},
    )  # fmt: skip
    return metrics

