"""Read what the pipeline wrote — evaluations, training and transfer metrics — checked, paired by item id.

Every missing or malformed input raises one `PawError` naming the file and what was expected, so a report is
never built from half the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from paw.errors import PawError
from paw.evaluation.records import METRICS_FILE, PREDICTIONS_FILE, read_metrics, read_predictions
from paw.training.records import METRICS_FILE as TRAIN_METRICS_FILE, read_train_metrics
from paw.transfer.records import DIAGNOSTICS_FILE, read_diagnostics

# Evaluations in report order, with the label a reader sees.
EVAL_LABELS = {
    "source_base": "source base",
    "source_lora": "source LoRA",
    "target_base": "target base",
    "transferred": "transferred LoRA",
    "control": "random control (norm-matched)",
    "target_lora": "target LoRA",
}
EVAL_NAMES = tuple(EVAL_LABELS)


def eval_dir(name: str, reports: str | Path = "reports") -> Path:
    """Where evaluation `name` writes its metrics and predictions, and where the report reads them."""
    return Path(reports) / "eval" / name
PREDICTION_KEYS = ("id", "gold", "pred")
TRAIN_ROLES = ("source", "target")


@dataclass(frozen=True)
class Evaluation:
    """One model's evaluation: its metrics.json and its per-item correctness, ordered by item id."""

    name: str
    metrics: dict[str, Any]
    ids: tuple[str, ...]
    correct: dict[str, np.ndarray]  # "acc" / "acc_norm" -> bool per item (acc_norm absent if never scored)


@dataclass(frozen=True)
class ReportInputs:
    evaluations: dict[str, Evaluation]
    train: dict[str, dict[str, Any]]  # role -> metrics.json
    transfer: dict[str, Any]  # diagnostics.json as written


def read_evaluation(reports_dir: Path, name: str) -> Evaluation:
    directory = eval_dir(name, reports_dir)
    metrics = read_metrics(directory / METRICS_FILE)
    rows = sorted(read_predictions(directory / PREDICTIONS_FILE), key=lambda r: str(r["id"]))
    if int(metrics["n"]) != len(rows):
        raise PawError(
            f"{directory / METRICS_FILE}: n = {metrics['n']} — expected {len(rows)}, the lines of predictions.jsonl"
        )
    correct = {"acc": np.array([r["pred"] == r["gold"] for r in rows], dtype=bool)}
    # The paired tests use the predictions and the table uses metrics.json: they must describe the same run.
    if abs(float(correct["acc"].mean()) - float(metrics["acc"])) > 1e-6:
        raise PawError(
            f"{directory / METRICS_FILE}: acc = {metrics['acc']} — expected {correct['acc'].mean():.6g}, the share "
            "of predictions.jsonl items with pred == gold (are the two files from different runs?)"
        )
    if all(r.get("pred_norm") is not None for r in rows):
        correct["acc_norm"] = np.array([r["pred_norm"] == r["gold"] for r in rows], dtype=bool)
    return Evaluation(name, metrics, tuple(str(r["id"]) for r in rows), correct)


def check_same_items(evaluations: Mapping[str, Evaluation], reports_dir: Path) -> None:
    """Paired statistics need every model scored on the same items: compare the id sets."""
    (first, reference), *others = evaluations.items()
    for name, evaluation in others:
        if evaluation.ids == reference.ids:
            continue
        extra = sorted(set(evaluation.ids) - set(reference.ids))[:3]
        lacking = sorted(set(reference.ids) - set(evaluation.ids))[:3]
        raise PawError(
            f"{eval_dir(name, reports_dir) / PREDICTIONS_FILE}: item ids differ from {first}'s "
            f"(extra {extra}, missing {lacking}) — expected every model evaluated on the same items"
        )


def read_inputs(
    reports_dir: str | Path, names: tuple[str, ...] = EVAL_NAMES, transfer_diagnostics: str | Path | None = None
) -> ReportInputs:
    """Read every evaluation in `names`, both trainings and the transfer diagnostics under `reports_dir`.

    `transfer_diagnostics` points elsewhere when the transfer stage writes its diagnostics beside the adapter.
    """
    reports_dir = Path(reports_dir)
    evaluations = {name: read_evaluation(reports_dir, name) for name in names}
    check_same_items(evaluations, reports_dir)
    train = {}
    for role in TRAIN_ROLES:
        train[role] = read_train_metrics(reports_dir / "train" / role / TRAIN_METRICS_FILE)
    path = Path(transfer_diagnostics) if transfer_diagnostics else reports_dir / "transfer" / DIAGNOSTICS_FILE
    return ReportInputs(evaluations, train, read_diagnostics(path))
