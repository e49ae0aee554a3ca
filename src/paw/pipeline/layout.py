"""Paths of the pipeline's outputs (relative to the repository root, where `dvc repro` runs each stage).

dvc.yaml names the same paths; tests/pipeline/test_layout.py checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paw.config import Params
from paw.models import resolve_model_dir
from paw.reporting.inputs import eval_dir  # noqa: F401  (the reader owns where evaluations are read from)

ROLES = ("source", "target")
TOY_DATA = Path("data/toy")
REPORTS = Path("reports")


def svd_dir(role: str) -> Path:
    return Path("models/svd") / role


def adapter_dir(role: str) -> Path:
    return Path("models/lora") / role


def checkpoint_dir(role: str) -> Path:
    return Path("models/checkpoints") / role


def train_report_dir(role: str) -> Path:
    return REPORTS / "train" / role


CARRIED_DIR = Path("models/carried")  # the carry stage's threshold-independent results (paw.transfer.carried)
TRANSFER_DIR = Path("models/transfer")
TRANSFER_REPORT_DIR = REPORTS / "transfer"
CARRY_COST = TRANSFER_REPORT_DIR / "carry.json"


@dataclass(frozen=True)
class EvalRun:
    """One row of the report: a base (source or target) with or without an adapter."""

    name: str
    role: str
    adapter: Path | None


EVAL_RUNS = {
    run.name: run
    for run in (
        EvalRun("source_base", "source", None),
        EvalRun("source_lora", "source", adapter_dir("source")),
        EvalRun("target_base", "target", None),
        EvalRun("transferred", "target", TRANSFER_DIR / "adapter"),
        EvalRun("control", "target", TRANSFER_DIR / "control"),
        EvalRun("target_lora", "target", adapter_dir("target")),
    )
}


def base_model_dir(params: Params, role: str) -> Path:
    """The source or target base named in the selected environment, looked up under its models_dir."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, not {role!r}")
    name = params.profile.source_model if role == "source" else params.profile.target_model
    return resolve_model_dir(name, params.profile.models_dir)
