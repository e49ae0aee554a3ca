"""The two files an evaluation leaves, with their one writer and their one reader: the engine writes them through
`write_evaluation`, the report reads them through `read_metrics` and `read_predictions`, so their names and the
keys a reader relies on are said once.

- metrics.json: task, split, prompt_style, n, acc, acc_stderr, acc_norm, acc_norm_stderr, model, adapter,
  seconds, items_per_second, peak_ram_mb, peak_gpu_mb (null on CPU), plus how it was scored.
- predictions.jsonl: per item, in input-row order: id, gold, ll (one float per choice), pred, pred_norm.

Reading needs no torch or numpy: the report imports this module.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence, TypedDict

from paw.errors import PawError
from paw.io import atomic_dir, read_json

class EvalMetrics(TypedDict):
    """metrics.json of one evaluation."""

    task: str
    split: str
    prompt_style: str  # cloze | letter
    n: int  # items scored
    acc: float
    acc_stderr: float | None  # null for a single item
    acc_norm: float
    acc_norm_stderr: float | None
    acc_norm_in_lm_eval: bool  # whether lm-eval reports acc_norm for this task
    model: str  # base directory name
    adapter: str | None  # adapter directory name
    dtype: str
    seconds: float
    items_per_second: float | None
    peak_ram_mb: float | None
    peak_gpu_mb: float | None  # null on CPU


class Prediction(TypedDict):
    """One line of predictions.jsonl."""

    id: str
    gold: int
    ll: list[float]  # one loglikelihood per choice
    pred: int  # argmax of ll
    pred_norm: int | None  # argmax of ll per character of the choice text (acc_norm)


METRICS_FILE, PREDICTIONS_FILE = "metrics.json", "predictions.jsonl"
PREDICTION_KEYS = ("id", "gold", "pred")  # what the paired tests read; ll and pred_norm are written as well
NUMBER_METRICS = ("n", "acc")  # acc_stderr is undefined (null) for a single item, and the report says so


def write_evaluation(out_dir: str | Path, metrics: EvalMetrics, predictions: Sequence[Prediction]) -> None:
    """Both files, atomically: a failed run leaves no directory behind."""
    with atomic_dir(out_dir) as tmp:
        (tmp / METRICS_FILE).write_text(json.dumps(dict(metrics), indent=2, allow_nan=False) + "\n")
        with open(tmp / PREDICTIONS_FILE, "w") as handle:
            for line in predictions:
                handle.write(json.dumps(dict(line)) + "\n")


def read_metrics(path: Path) -> dict[str, Any]:
    metrics = read_json(path)
    if not isinstance(metrics, Mapping):
        raise PawError(f"{path}: expected a JSON object of evaluation metrics")
    for key in NUMBER_METRICS:
        value = metrics.get(key)
        if not is_number(value):
            raise PawError(f"{path}: {key} = {value!r} — expected a number")
    return dict(metrics)


def read_predictions(path: Path) -> list[dict[str, Any]]:
    """One JSON object per line with at least id, gold and pred; ids unique."""
    if not path.is_file():
        raise PawError(f"{path}: file not found")
    rows, seen = [], set()
    with path.open() as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PawError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            missing = [k for k in PREDICTION_KEYS if not isinstance(row, Mapping) or k not in row]
            if missing:
                raise PawError(f"{path}:{lineno}: missing {', '.join(missing)} — expected keys id, gold, ll, pred, "
                               "pred_norm")
            item_id = str(row["id"])
            if item_id in seen:
                raise PawError(f"{path}:{lineno}: id {item_id!r} appears twice — expected one line per item")
            seen.add(item_id)
            rows.append(row)
    if not rows:
        raise PawError(f"{path}: no predictions — expected one JSON line per evaluated item")
    return rows


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool): what a metric value must be."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
