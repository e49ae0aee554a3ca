"""The transfer stage's work: select from the saved carry, then keep each output where dvc.yaml declares it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from paw.errors import PawError
from paw.transfer.api import transfer_from_carried_params
from paw.transfer.registry import known_methods

if TYPE_CHECKING:
    from paw.config import Params

DIAGNOSTICS = ("diagnostics.json", "diagnostics.md")


def check_transfer(params: "Params") -> None:
    """What the transfer stage relies on: a known method, and the control the report compares it with."""
    if not params.transfer.control:
        raise PawError(
            "params.yaml: transfer.control = false — expected true in the pipeline: the report compares every "
            "transfer with its norm-matched random control (`paw transfer --no-control` can skip it)"
        )

    if params.transfer.method not in known_methods():
        raise PawError(
            f"params.yaml: transfer.method = {params.transfer.method!r} — expected one of "
            f"{', '.join(known_methods())}"
        )


def select_carried(params: "Params", carried_dir: Path, carry_cost: Mapping[str, Any], out_dir: Path,
                   report_dir: Path) -> dict:
    """Keep the carried modules that reach `transfer.threshold`: the adapter and its control go to out_dir (DVC's
    cache), the diagnostics to report_dir (in git, so `dvc metrics diff` compares them across branches). Loads no
    base model. Returns the diagnostics."""
    diagnostics = transfer_from_carried_params(params, carried_dir, out_dir, carry_cost=carry_cost)
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    # Each file moved whole: report_dir also holds the carry stage's cost.
    for name in DIAGNOSTICS:
        (Path(out_dir) / name).replace(report_dir / name)
    return diagnostics
