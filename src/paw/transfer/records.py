"""The transfer's diagnostics.json, in one place for its writer (`paw.transfer.output`) and its reader (the report).

Its shape:
- top level: the method and the run — method, method_kind, method_summary, source_model, target_model, threshold,
  rank (the SVD k, null where none), layer_map, seed, options; held_out_agreement (distill only);
  threshold_applies and suspicious (modules outside the sane band, see sanity.py);
- `totals`: modules_considered, modules_kept, coverage (their share) and its breakdown by_kind and by_depth
  ({kept, total, share} each), means over modules (mean_similarity, mean_chance, mean_energy_kept, mean_norm_ratio,
  mean_update_size, mean_source_update_size), suspicious_modules, and the cost (seconds, carry_seconds,
  select_seconds, peak_ram_mb, peak_gpu_mb);
- `modules`: one record per candidate module (see carry.py).

Reading needs no torch: the report imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, TypedDict

from paw.errors import PawError
from paw.evaluation.records import is_number
from paw.io import read_json

class ModuleRecord(TypedDict, total=False):
    """One candidate target module in the carry and in diagnostics.json's `modules` (skipped ones carry only the
    first five keys, `kept: false` and the reason)."""

    target_module: str
    kind: str  # q_proj, …, down_proj
    target_layer: int
    source_module: str | None  # the source module carried into it (null: skipped, or trained by distill)
    source_layer: int | None
    carried: bool
    kept: bool  # carried and at or above transfer.threshold (set by the selection)
    similarity: float | None  # subspace similarity, 0..1 (null where the method scores none)
    chance: float | None  # its chance level for these shapes
    reason: str | None  # why not carried or kept, or the method's note
    energy_kept: float | None  # share of the carried update inside the target's top-k subspaces
    norm_ratio: float | None  # ‖ΔW target‖ / ‖ΔW source‖
    update_size: float | None  # ‖ΔW‖ / ‖W‖ on the target
    source_update_size: float | None  # the same on the source


class CarryCost(TypedDict):
    """reports/transfer/carry.json: what the carry stage cost."""

    method: str
    modules_considered: int
    modules_carried: int
    seconds: float
    peak_ram_mb: float | None
    peak_gpu_mb: float | None


DIAGNOSTICS_FILE = "diagnostics.json"
COUNTS = ("modules_considered", "modules_kept", "coverage")  # what every transfer writes under totals


def read_diagnostics(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    diagnostics = read_json(path)
    if not isinstance(diagnostics, Mapping):
        raise PawError(f"{path}: expected a JSON object of transfer diagnostics")
    totals = diagnostics.get("totals")
    if not isinstance(totals, Mapping):
        raise PawError(f"{path}: no totals block — expected the diagnostics a transfer writes (the transfer stage "
                       "or `paw transfer`)")
    for key in COUNTS:
        if not is_number(totals.get(key)):
            raise PawError(f"{path}: totals.{key} = {totals.get(key)!r} — expected a number")
    return dict(diagnostics)
