"""Write a transfer's results atomically: `adapter/`, `control/` (norm-matched random updates), `diagnostics.json`
(its shape in records.py) and `diagnostics.md` — a killed run leaves no half-written directory."""

from __future__ import annotations

import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from tabulate import tabulate

from paw.io import atomic_dir, atomic_file, write_json
from paw.resources import peak_gpu_mb, peak_ram_mb
from paw.transfer.carried import LoraUpdate
from paw.transfer.records import DIAGNOSTICS_FILE
from paw.transfer.sanity import (
    KNOB,
    MAX_UPDATE_SIZE,
    NORM_RATIO_BAND,
    similarity_phrase,
    suspicious_modules,
    threshold_applies,
)
from paw.models import write_adapter
from paw.transfer.carry import frobenius

if TYPE_CHECKING:
    from paw.transfer.carried import Carried

DEPTHS = ("early", "middle", "late")


def control_weights(weights: dict, seed: int) -> dict:
    """Random low-rank updates with the same per-module Frobenius norm as the transferred ones (seeded per module).

    A transfer only counts if it beats this: on toy models, update size alone moved accuracy by up to ±10 points."""
    import torch

    control = {}
    for path, (a, b) in sorted(weights.items()):
        # Seeded apart from the SVD sketches of the same module (their seed mixes in the bare path).
        generator = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(b"control:" + path.encode()))
        rand_b = torch.randn(b.shape, generator=generator)
        rand_a = torch.randn(a.shape, generator=generator)
        goal, have = frobenius(b, a), frobenius(rand_b, rand_a)
        factor = (goal / have) ** 0.5 if have > 0 else 0.0
        control[path] = LoraUpdate(rand_a * factor, rand_b * factor)
    return control


def coverage(records: list[dict], n_layers: int) -> dict:
    by_kind: dict[str, dict] = {}
    by_depth: dict[str, dict] = {d: {"kept": 0, "total": 0} for d in DEPTHS}
    for record in records:
        kind = by_kind.setdefault(record["kind"], {"kept": 0, "total": 0})
        depth = by_depth[DEPTHS[min(2, record["target_layer"] * 3 // max(1, n_layers))]]
        for bucket in (kind, depth):
            bucket["total"] += 1
            bucket["kept"] += int(record["kept"])
    for bucket in (*by_kind.values(), *by_depth.values()):
        bucket["share"] = round(bucket["kept"] / bucket["total"], 4) if bucket["total"] else None
    return {"by_kind": dict(sorted(by_kind.items())), "by_depth": by_depth}


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 4) if values else None


def write_outputs(out_dir: Path, carried: "Carried", weights: dict, records: list[dict], threshold: float,
                  control: bool, start: float) -> dict:
    """`start` is when selecting began; the carry's own cost (when known) is added to the totals."""
    kept = [r for r in records if r["kept"]]
    totals = {
        "modules_considered": len(records), "modules_kept": len(kept),
        "coverage": round(len(kept) / len(records), 4) if records else 0.0,
        **coverage(records, carried.target_layers),
        "mean_similarity": _mean(r.get("similarity") for r in records),
        "mean_chance": _mean(r.get("chance") for r in records),
        "mean_energy_kept": _mean(r.get("energy_kept") for r in kept),
        "mean_norm_ratio": _mean(r.get("norm_ratio") for r in kept),
        "mean_update_size": _mean(r.get("update_size") for r in kept),
        "mean_source_update_size": _mean(r.get("source_update_size") for r in kept),
    }
    diagnostics = {"method_kind": "training-free", **carried.summary, "threshold": threshold, "totals": totals,
                   "modules": records}
    # Said in words rather than left to a null or a quiet number (see paw.transfer.sanity for the bands).
    diagnostics["threshold_applies"] = threshold_applies(records)
    diagnostics["suspicious"] = suspicious_modules(records)
    totals["suspicious_modules"] = len(diagnostics["suspicious"])
    # When some modules of an adapted kind were skipped, name the kept ones by path so PEFT attaches LoRA exactly there.
    partial = len(kept) < len(records)
    with atomic_dir(out_dir) as tmp:
        write_adapter(tmp / "adapter", weights, carried.r, carried.alpha, carried.target_model, full_paths=partial)
        if control:
            write_adapter(tmp / "control", control_weights(weights, carried.summary["seed"]), carried.r, carried.alpha,
                          carried.target_model, full_paths=partial)
        totals.update(cost_totals(carried.cost, time.perf_counter() - start))
        write_json(tmp / DIAGNOSTICS_FILE, diagnostics)
        with atomic_file(tmp / "diagnostics.md") as handle:
            handle.write(markdown(diagnostics))
    return diagnostics


def cost_totals(carry_cost: dict, select_seconds: float) -> dict:
    """Seconds and peak memory of the whole transfer: the carry (when known) plus this selection."""
    gpu = [v for v in (carry_cost.get("peak_gpu_mb"), peak_gpu_mb()) if v is not None]
    return {
        "seconds": round(carry_cost.get("seconds", 0.0) + select_seconds, 2),
        "carry_seconds": carry_cost.get("seconds"),
        "select_seconds": round(select_seconds, 2),
        "peak_ram_mb": max(carry_cost.get("peak_ram_mb") or 0, peak_ram_mb() or 0) or None,
        "peak_gpu_mb": max(gpu) if gpu else None,
    }


def _cost(t: dict) -> str:
    if t.get("carry_seconds") is None:
        return f"selection {t['select_seconds']} s (from a saved carry whose time is not recorded here)"
    return f"{t['seconds']} s (carry {t['carry_seconds']} s, selection {t['select_seconds']} s)"


def markdown(d: dict) -> str:
    t = d["totals"]
    lines = [
        f"# Transfer {d['source_model']} → {d['target_model']} ({d['method']})",
        "",
        f"{d['method_summary']} ({d['method_kind']}). {_threshold_sentence(d)}, "
        f"SVD rank {d['rank'] if d['rank'] is not None else '–'}, layer map {d['layer_map']}.",
        "",
        f"Kept {t['modules_kept']} of {t['modules_considered']} modules ({t['coverage']:.0%}); "
        f"{similarity_phrase(d['method'], t['mean_similarity'], t['mean_chance'])}; "
        f"mean energy kept {t['mean_energy_kept']}; mean norm "
        f"ratio {t['mean_norm_ratio']}; update size ‖ΔW‖/‖W‖ {t['mean_update_size']} (source "
        f"{t['mean_source_update_size']}); {_cost(t)}, peak RAM {t['peak_ram_mb']} MiB.",
        "",
        _coverage_table(t),
        "",
        _module_table(d["modules"]),
    ]
    return "\n".join(lines + _suspicious_section(d)) + "\n"


def _threshold_sentence(d: dict) -> str:
    if d.get("threshold_applies", True):
        return f"Threshold {d['threshold']:g} on similarity (0..1; chance level per module below)"
    return (f"Threshold {d['threshold']:g} does not apply: {d['method']} scores no similarity, so every carried "
            "module is kept")


def _suspicious_section(d: dict) -> list[str]:
    flagged = d.get("suspicious") or []
    if not flagged:
        return []
    low, high = NORM_RATIO_BAND
    return ["", "## Suspicious updates", "",
            f"{len(flagged)} kept modules fall outside the sane band (norm ratio in [{low:g}, {high:g}], update "
            f"size ‖ΔW‖/‖W‖ at most {MAX_UPDATE_SIZE:g}; why in paw/transfer/sanity.py): {KNOB}.", "",
            _table(("target module", "problem"), [(f["target_module"], f["problem"]) for f in flagged])]


def _coverage_table(t: dict) -> str:
    buckets = (*t["by_kind"].values(), *t["by_depth"].values())
    row = ("kept/total", *(f"{b['kept']}/{b['total']}" for b in buckets))
    return _table(("coverage", *t["by_kind"], *DEPTHS), [row])


def _module_table(records: list[dict]) -> str:
    headers = ("target module", "source layer", "similarity", "chance", "kept", "energy kept", "norm ratio",
               "update size", "note")
    rows = [(r["target_module"], r["source_layer"], r.get("similarity"), r.get("chance"), "yes" if r["kept"] else "no",
             r.get("energy_kept"), r.get("norm_ratio"), r.get("update_size"), r.get("reason") or "") for r in records]
    return _table(headers, rows)


def _table(headers: tuple, rows: list) -> str:
    """A Markdown table of the values as written (str; None as "–"), not re-parsed as numbers by tabulate."""
    cells = [["–" if c is None else str(c) for c in row] for row in rows]
    return tabulate(cells, headers=headers, tablefmt="github", disable_numparse=True)
