"""A transfer split in two: carrying (costly: both bases, SVDs, probe activations, per-module maps) and selecting
(cheap: the threshold, the control adapter, the output files).

Everything carried is independent of `transfer.threshold` and `transfer.control`: every paired module's update
is carried and scored, whatever its similarity. Saved as a directory (`factors.safetensors` + `carried.json`), it
lets a threshold change rerun only the selection — no base model is loaded again (`dvc repro` keeps it as the
`carry` stage's output; `paw transfer --carried DIR` / `--from-carried DIR` on the command line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from paw.errors import PawError
from paw.io import atomic_dir, read_json, write_json

if TYPE_CHECKING:
    import torch

    from paw.transfer.records import ModuleRecord

FACTORS = "factors.safetensors"
META = "carried.json"
FORMAT = 1


class LoraUpdate(NamedTuple):
    """One module's low-rank update ΔW = scale · B·A, as LoRA stores it: what a method carries into a target
    module (and what a source adapter holds per module). A tuple, so `a, b = update` reads it."""

    a: "torch.Tensor"  # A [r × in]
    b: "torch.Tensor"  # B [out × r]


@dataclass
class Carried:
    """The saved carry: every module's carried update and score. `records` hold one entry per target module
    considered: carried ones have `carried: true` and their update in `weights`; the others say why not."""

    records: list["ModuleRecord"]
    weights: dict[str, LoraUpdate]
    summary: dict[str, Any]  # method, options, models, rank, LoRA r/alpha, seed, layer map, method diagnostics
    r: int
    alpha: float
    target_model: str  # directory name of the target base (recorded in the adapters)
    target_layers: int  # decoder layers of the target (coverage by depth)
    cost: dict[str, Any] = field(default_factory=dict)  # seconds and peak memory of carrying (not saved)


def write_carried(out_dir: str | Path, carried: Carried) -> None:
    """Save atomically. Timings stay out (they would change a cached output's hash on every rerun)."""
    from safetensors.torch import save_file

    tensors = {}
    for path, (a, b) in carried.weights.items():
        tensors[f"{path}.A"], tensors[f"{path}.B"] = a.contiguous(), b.contiguous()
    meta = {"format": FORMAT, "r": carried.r, "alpha": carried.alpha, "target_model": carried.target_model,
            "target_layers": carried.target_layers, "summary": carried.summary, "records": carried.records}
    with atomic_dir(Path(out_dir)) as tmp:
        save_file(tensors, str(tmp / FACTORS), metadata={"format": "pt"})
        write_json(tmp / META, meta)


def read_carried(carried_dir: str | Path) -> Carried:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    carried_dir = Path(carried_dir)
    if not (carried_dir / META).is_file() or not (carried_dir / FACTORS).is_file():
        raise PawError(f"{carried_dir}: not a carried transfer — expected {META} and {FACTORS} "
                       "(written by the carry stage or `paw transfer --carried DIR`)")
    meta = read_json(carried_dir / META)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise PawError(f"{carried_dir / META}: format {meta.get('format') if isinstance(meta, dict) else None!r} "
                       f"— expected {FORMAT}; carry again")
    try:
        tensors = load_file(str(carried_dir / FACTORS))
    except (SafetensorError, OSError) as exc:
        raise PawError(f"{carried_dir / FACTORS}: not a readable safetensors file ({exc})") from None
    weights = {}
    for record in meta["records"]:
        if record.get("carried"):
            path = record["target_module"]
            if f"{path}.A" not in tensors or f"{path}.B" not in tensors:
                raise PawError(f"{carried_dir / FACTORS}: no factors for {path} — expected {path}.A and {path}.B")
            # Copies in fresh memory: reductions over file-backed tensors may take another SIMD path and differ from
            # the in-memory run in the last bit (the control adapter's norms would then not be bit-exact).
            weights[path] = LoraUpdate(tensors[f"{path}.A"].clone(), tensors[f"{path}.B"].clone())
    return Carried(records=meta["records"], weights=weights, summary=meta["summary"], r=meta["r"],
                   alpha=meta["alpha"], target_model=meta["target_model"], target_layers=meta["target_layers"])


def select(carried: Carried, threshold: float) -> tuple[dict, list[dict]]:
    """Keep the carried modules whose similarity reaches the threshold (modules without a common space to score
    in have similarity null and are always kept). Returns (weights, records with `kept` and `reason`)."""
    check_threshold(threshold)
    weights, records = {}, []
    for record in carried.records:
        record = {key: value for key, value in record.items() if key != "carried"}
        similarity = record.get("similarity")
        path = record["target_module"]
        if path not in carried.weights:
            record["kept"] = False
        elif similarity is not None and similarity < threshold:
            record.update(kept=False, reason=f"similarity {similarity:.3g} below transfer.threshold {threshold:g}")
        else:
            record["kept"] = True
            weights[path] = carried.weights[path]
        records.append(record)
    if not weights:
        best = max((r["similarity"] for r in records if r.get("similarity") is not None), default=None)
        raise PawError(
            f"no module was transferred ({len(records)} considered; highest similarity {best}, "
            f"transfer.threshold = {threshold}) — lower the threshold or pick another method"
        )
    return weights, records


def check_threshold(threshold: float) -> None:
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 <= threshold <= 1:
        raise PawError(f"transfer.threshold = {threshold} — expected a number in [0, 1]")
