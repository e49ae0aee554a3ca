"""Turn the pipeline's outputs into one summary: accuracies, paired comparisons, recovery, diagnostics, run facts.

The summary is a plain nested dict of numbers (and a few strings under `run`), written as reports/summary.json —
the DVC metrics file — so `dvc metrics show` and `dvc metrics diff` list accuracies, deltas, intervals, p-values
and recovery side by side. NaN is written as null (JSON has no NaN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from paw.reporting import stats
from paw.reporting.inputs import EVAL_LABELS, ReportInputs
from paw.training.records import REPORTED as TRAIN_KEYS

# (name, A, B): A − B on the same items. The first three answer the question; the others make it readable.
COMPARISONS = (
    ("transferred_vs_target_base", "transferred", "target_base"),
    ("transferred_vs_control", "transferred", "control"),
    ("target_lora_vs_target_base", "target_lora", "target_base"),
    ("control_vs_target_base", "control", "target_base"),
    ("source_lora_vs_source_base", "source_lora", "source_base"),
)
NOT_BEATEN = "the target LoRA itself did not beat the base"


@dataclass(frozen=True)
class ReportSettings:
    """What the statistics need besides the data."""

    metric: str = "acc"  # which per-item correctness the paired tests use: acc | acc_norm
    bootstrap_samples: int = 10000
    confidence: float = 0.95
    seed: int = 0

    @property
    def alpha(self) -> float:
        return 1 - self.confidence


def summarize(inputs: ReportInputs, settings: ReportSettings, run: Mapping[str, Any]) -> dict[str, Any]:
    """The whole summary dict, in the order the Markdown presents it."""
    metric = _available_metric(inputs, settings.metric)
    comparisons = _comparisons(inputs, settings, metric)
    return {
        "run": dict(run) | {"metric": metric, "bootstrap_samples": settings.bootstrap_samples,
                            "confidence": settings.confidence},
        "models": {name: _model_row(e.metrics) for name, e in inputs.evaluations.items()},
        "comparisons": comparisons,
        "recovery": _recovery(inputs, settings, metric, comparisons["target_lora_vs_target_base"]),
        "transfer": summarize_transfer(inputs.transfer),
        "train": {role: {k: _clean(m.get(k)) for k in TRAIN_KEYS if k in m} for role, m in inputs.train.items()},
    }


def _available_metric(inputs: ReportInputs, wanted: str) -> str:
    # Tasks such as winogrande have no length-normalised score; fall back to acc rather than fail the report.
    if all(wanted in e.correct for e in inputs.evaluations.values()):
        return wanted
    return "acc"


def _model_row(metrics: Mapping[str, Any]) -> dict[str, Any]:
    row = {}
    for key in ("acc", "acc_stderr", "acc_norm", "acc_norm_stderr"):
        row[key] = _clean(metrics.get(key))
    row["n"] = int(metrics["n"])
    return row


def _comparisons(inputs: ReportInputs, settings: ReportSettings, metric: str) -> dict[str, dict[str, Any]]:
    out = {}
    for offset, (name, a, b) in enumerate(COMPARISONS):
        if a not in inputs.evaluations or b not in inputs.evaluations:
            continue
        result = stats.compare_paired(
            inputs.evaluations[a].correct[metric],
            inputs.evaluations[b].correct[metric],
            settings.bootstrap_samples,
            settings.seed + offset,  # distinct, reproducible draws per comparison
            settings.confidence,
        )
        out[name] = {
            "diff": _rounded(result.difference.estimate),
            "ci_low": _rounded(result.difference.low),
            "ci_high": _rounded(result.difference.high),
            "p_value": _rounded(result.p_value),
            "a_only": result.a_only,
            "b_only": result.b_only,
            "significant": int(result.p_value < settings.alpha),
        }
    return out


def _recovery(
    inputs: ReportInputs, settings: ReportSettings, metric: str, lora_gain: Mapping[str, Any]
) -> dict[str, Any]:
    ev = inputs.evaluations
    interval = stats.recovery(
        ev["transferred"].correct[metric],
        ev["target_base"].correct[metric],
        ev["target_lora"].correct[metric],
        settings.bootstrap_samples,
        settings.seed + len(COMPARISONS),
        settings.confidence,
    )
    # The ratio only means something when its denominator is a real gain: LoRA significantly above the base.
    beaten = bool(lora_gain["significant"]) and lora_gain["diff"] > 0
    return {
        "estimate": _rounded(interval.estimate),
        "ci_low": _rounded(interval.low),
        "ci_high": _rounded(interval.high),
        "denominator_significant": int(beaten),
    }


# What the summary takes from the transfer diagnostics (see paw.transfer.records for their shape): (block, key,
# name in the summary), in the summary's order; a key the block lacks is skipped, never invented.
TRANSFER_KEYS = (
    (None, "method", "method"), (None, "method_kind", "kind"), (None, "threshold", "threshold"),
    (None, "rank", "rank"), (None, "layer_map", "layer_map"),
    (None, "held_out_agreement", "teacher_student_agreement"),
    ("totals", "modules_considered", "modules_considered"), ("totals", "modules_kept", "modules_kept"),
    ("totals", "coverage", "coverage"), ("totals", "mean_similarity", "mean_similarity"),
    ("totals", "mean_chance", "chance"), ("totals", "mean_energy_kept", "mean_energy_kept"),
    ("totals", "mean_norm_ratio", "mean_norm_ratio"), ("totals", "mean_update_size", "mean_update_size"),
    ("totals", "suspicious_modules", "suspicious_modules"), ("totals", "seconds", "seconds"),
    ("totals", "peak_ram_mb", "peak_ram_mb"), ("totals", "peak_gpu_mb", "peak_gpu_mb"),
)


def summarize_transfer(diagnostics: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers a reader needs from the transfer diagnostics.

    Coverage is the share of candidate modules that received an adapter, also by projection kind and by depth;
    similarity is the mean over modules, next to its chance level, both on 0..1.
    """
    blocks = {None: diagnostics, "totals": diagnostics["totals"]}
    out: dict[str, Any] = {}
    for block, key, name in TRANSFER_KEYS:
        if key in blocks[block]:
            out[name] = _clean(blocks[block][key])
    for group in ("by_kind", "by_depth"):
        shares = {k: _clean(b["share"]) for k, b in (blocks["totals"].get(group) or {}).items()}
        if shares:
            out[f"coverage_{group}"] = shares
    return out


def recovery_sentence(summary: Mapping[str, Any]) -> str:
    """Plain words for the recovery figure, with the caveat when the LoRA gain itself is not significant."""
    rec = summary["recovery"]
    confidence = summary["run"]["confidence"]
    if rec["estimate"] is None:
        return f"Recovery is undefined: {NOT_BEATEN} (identical accuracy)."
    interval = _interval_text(rec["ci_low"], rec["ci_high"], confidence, scale=1, digits=2)
    text = f"Recovery {rec['estimate']:.2f} ({interval}) of the target LoRA's gain over the target base."
    if not rec["denominator_significant"]:
        text += f" Read it with care: {NOT_BEATEN} significantly, so the ratio divides by noise."
    return text


def comparison_sentence(name: str, comparison: Mapping[str, Any], confidence: float) -> str:
    a, b = next((x, y) for n, x, y in COMPARISONS if n == name)
    diff = comparison["diff"] * 100
    interval = _interval_text(comparison["ci_low"], comparison["ci_high"], confidence, scale=100, digits=1)
    verdict = "significant" if comparison["significant"] else "not significant"
    return (f"{EVAL_LABELS[a]} vs {EVAL_LABELS[b]}: {diff:+.1f} points ({interval}), "
            f"McNemar p = {comparison['p_value']:.3g} — {verdict} at {1 - confidence:.0%}.")


def _interval_text(low: float | None, high: float | None, confidence: float, scale: float, digits: int) -> str:
    if low is None or high is None:
        return f"{confidence:.0%} CI undefined"
    return f"{confidence:.0%} CI {low * scale:+.{digits}f} to {high * scale:+.{digits}f}"


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become None, numpy scalars become Python numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rounded(value: float) -> float | None:
    """Six significant digits: drops float noise (0.19999999999999996) from what `dvc metrics` shows."""
    value = _clean(float(value))
    return None if value is None else float(f"{value:.6g}")
