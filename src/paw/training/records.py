"""A training's metrics.json, in one place for its writer (`paw.training.run`) and its reader (the report).

Keys: steps, world_size, final_train_loss (the mean of the last logged window, whose first and last step are
final_train_loss_steps), best_val_loss, best_val_acc, seconds, tokens_per_second, peak_ram_mb, peak_gpu_mb (null on
CPU), resumed_from_step, lora_modules and missing_lora_modules (kinds asked for that the base lacks). The adapter
and DVCLive's files sit beside it; see run.py.

Reading needs no torch: the report imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, TypedDict

from paw.errors import PawError
from paw.evaluation.records import is_number
from paw.io import read_json, write_json

class TrainMetrics(TypedDict, total=False):
    """metrics.json of one training (the last three from the pipeline's data, absent for `paw train` on pairs)."""

    steps: int
    world_size: int
    final_train_loss: float | None  # mean of the last logged window
    final_train_loss_steps: list[int] | None  # [first, last] step of that window
    best_val_loss: float | None
    best_val_acc: float | None
    seconds: float
    tokens_per_second: float | None
    peak_ram_mb: float | None
    peak_gpu_mb: float | None
    resumed_from_step: int | None
    lora_modules: list[str]  # projection kinds that got a LoRA
    missing_lora_modules: list[str]  # kinds asked for that the base lacks
    train_sources: list[str]  # "<task>:<split> (<n> rows)" (pipeline runs)
    train_examples: int
    val_items: int


METRICS_FILE = "metrics.json"
REPORTED = ("steps", "final_train_loss", "best_val_loss", "best_val_acc", "seconds", "tokens_per_second",
            "peak_ram_mb", "peak_gpu_mb")  # what the report shows of each training


def write_train_metrics(report_dir: str | Path, metrics: TrainMetrics) -> None:
    write_json(Path(report_dir) / METRICS_FILE, dict(metrics))


def read_train_metrics(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    metrics = read_json(path)
    if not isinstance(metrics, Mapping):
        raise PawError(f"{path}: expected a JSON object of training metrics")
    if not is_number(metrics.get("steps")):
        raise PawError(f"{path}: steps = {metrics.get('steps')!r} — expected a number (the metrics a training "
                       "writes)")
    return dict(metrics)
