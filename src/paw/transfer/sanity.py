"""Plain words for two things a transfer's numbers can hide: a threshold that cannot act, and suspicious updates.

Bands (per kept module; the carry records both figures, see `paw.transfer.carry`):
- norm ratio ‖ΔW_target‖/‖ΔW_source‖ outside [0.25, 4]: the carried update is over 4× smaller or larger than
  what the source LoRA did. Between related bases a faithful carry stays near 1; a factor of 4 either way means the
  maps shrank the update to near nothing or blew it up (ridge fits at weak regularisation do this).
- update size ‖ΔW‖/‖W‖ above 0.5: the update rewrites half the weight's norm. Trained LoRAs move a weight by a
  few percent; at this size accuracy changes because of update size alone, which the random control also gets.
The `activation` method's `norm_rescale` option (`source`: the source update's norm; `relative`: the source's
‖ΔW‖/‖W‖ on the target weight) brings either back into line.
"""

from __future__ import annotations

NORM_RATIO_BAND = (0.25, 4.0)
MAX_UPDATE_SIZE = 0.5
KNOB = ("set transfer.activation.norm_rescale (source or relative) to bring the update back to the source's size"
        " — for other methods, check the bases are related enough for it")


def suspicious_modules(records: list[dict]) -> list[dict]:
    """One entry per kept module outside a band: {target_module, problem}."""
    low, high = NORM_RATIO_BAND
    flagged = []
    for record in records:
        if not record.get("kept"):
            continue
        problems = []
        ratio, size = record.get("norm_ratio"), record.get("update_size")
        if ratio is not None and not low <= ratio <= high:
            problems.append(f"norm ratio {ratio:g} outside [{low:g}, {high:g}]")
        if size is not None and size > MAX_UPDATE_SIZE:
            problems.append(f"update size ‖ΔW‖/‖W‖ {size:g} above {MAX_UPDATE_SIZE:g}")
        if problems:
            flagged.append({"target_module": record["target_module"], "problem": "; ".join(problems)})
    return flagged


def warning_line(flagged: list[dict], considered: int) -> str | None:
    """The one line `paw transfer` prints on stderr, or None when nothing is flagged."""
    if not flagged:
        return None
    first = flagged[0]
    more = f" (and {len(flagged) - 1} more)" if len(flagged) > 1 else ""
    return (f"warning: {len(flagged)} of {considered} kept modules have suspicious updates, e.g. "
            f"{first['target_module']}: {first['problem']}{more} — see diagnostics.md; {KNOB}")


def threshold_applies(records: list[dict]) -> bool:
    """False when no module has a similarity (cross_lora has no common space to score in): every carried module
    is then kept whatever the threshold."""
    return any(r.get("similarity") is not None for r in records)


def similarity_phrase(method: str, mean_similarity, mean_chance) -> str:
    if mean_similarity is None:
        return f"similarity not scored by {method}, so the threshold does not apply (every carried module is kept)"
    return f"mean similarity {mean_similarity} (chance {mean_chance})"
