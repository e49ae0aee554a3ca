"""Fixture reports directories in exactly the shape the pipeline writes, built from per-item correctness vectors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

N_ITEMS = 200


def first(k: int, n: int = N_ITEMS) -> np.ndarray:
    """Correct on the first k items."""
    return np.arange(n) < k


def items(indices, n: int = N_ITEMS) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[list(indices)] = True
    return out


# Known answers: target base 0.30, transferred 0.50 (45 gained, 5 lost), target LoRA 0.70, recovery exactly 0.5.
DEFAULT_CORRECT = {
    "source_base": first(80),
    "source_lora": first(120),
    "target_base": first(60),
    "transferred": items(list(range(5, 105))),
    "control": items(list(range(2, 62))),
    "target_lora": first(140),
}

TRAIN_METRICS = {"steps": 200, "final_train_loss": 0.41, "best_val_loss": 0.52, "best_val_acc": 0.66,
                 "seconds": 7.5, "tokens_per_second": 9000.0, "peak_ram_mb": 812.0, "peak_gpu_mb": None}
# The shape paw.transfer writes (method and settings at the top, `totals`, one record per module).
TRANSFER_DIAGNOSTICS = {
    "method": "aligned",
    "method_summary": "least-squares hidden map on shared tokens, relative-depth layer map",
    "threshold": 0.0001,
    "rank": 64,
    "layer_map": "relative-depth",
    "source_model": "toy-source",
    "target_model": "toy-grown",
    "totals": {
        "modules_considered": 28, "modules_kept": 21, "coverage": 0.75,
        "by_kind": {"down_proj": {"kept": 2, "total": 4, "share": 0.5}, "q_proj": {"kept": 4, "total": 4, "share": 1.0}},
        "by_depth": {"early": {"kept": 9, "total": 12, "share": 0.75}},
        "mean_similarity": 0.4, "mean_chance": 0.1, "mean_energy_kept": 0.8, "mean_norm_ratio": 1.1,
        "mean_update_size": 0.01, "seconds": 1.5, "peak_ram_mb": 900.0, "peak_gpu_mb": None,
    },
    "modules": [
        {"target_module": "model.layers.0.self_attn.q_proj", "similarity": 0.6, "chance": 0.1, "kept": True},
        {"target_module": "model.layers.0.mlp.down_proj", "similarity": 0.2, "chance": 0.1, "kept": False},
    ],
}


def write_evaluation(directory: Path, name: str, correct: np.ndarray, ids=None) -> None:
    rng = np.random.default_rng(1234)  # gold answers are the same for every model
    gold = rng.integers(0, 4, size=correct.size)
    ids = ids if ids is not None else [f"q{i:03d}" for i in range(correct.size)]
    # acc_norm differs from acc on every tenth item, so the two scores are distinguishable.
    norm_correct = correct.copy()
    norm_correct[::10] = ~norm_correct[::10]
    out = directory / "eval" / name
    out.mkdir(parents=True, exist_ok=True)
    with (out / "predictions.jsonl").open("w") as handle:
        for i, item_id in enumerate(ids):
            pred = int(gold[i]) if correct[i] else int((gold[i] + 1) % 4)
            pred_norm = int(gold[i]) if norm_correct[i] else int((gold[i] + 2) % 4)
            ll = [-1.0 - j for j in range(4)]
            handle.write(json.dumps({"id": item_id, "gold": int(gold[i]), "ll": ll, "pred": pred,
                                     "pred_norm": pred_norm}) + "\n")
    n = correct.size

    def stderr(hits: np.ndarray) -> float:  # as the evaluation writes it: NaN for a single item
        return float(hits.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")

    metrics = {
        "task": "arc_challenge", "split": "test", "prompt_style": "cloze", "n": n,
        "acc": float(correct.mean()), "acc_stderr": stderr(correct),
        "acc_norm": float(norm_correct.mean()), "acc_norm_stderr": stderr(norm_correct),
        "model": f"models/{name}", "adapter": None, "seconds": 1.0, "items_per_second": float(n),
        "peak_ram_mb": 500.0, "peak_gpu_mb": None,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))


def write_reports(root: Path, correct: dict | None = None, skip: tuple[str, ...] = ()) -> Path:
    correct = dict(DEFAULT_CORRECT, **(correct or {}))
    for name, vector in correct.items():
        if name not in skip:
            write_evaluation(root, name, vector)
    for role in ("source", "target"):
        path = root / "train" / role / "metrics.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(TRAIN_METRICS))
    path = root / "transfer" / "diagnostics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(TRANSFER_DIAGNOSTICS))
    return root


@pytest.fixture
def reports_dir(tmp_path) -> Path:
    return write_reports(tmp_path / "reports")
