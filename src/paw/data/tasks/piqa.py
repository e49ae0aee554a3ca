"""PIQA (baber/piqa), as lm-eval 0.4.13's piqa: validation split, `Question: {goal}\nAnswer:`, choices
[sol1, sol2] kept verbatim (some end with a space; lm-eval keeps it), gold = label."""

from __future__ import annotations

from paw.data.base import Task, is_str, one_of
from paw.data.registry import register_task


@register_task
class Piqa(Task):
    name = "piqa"
    hub_id = "baber/piqa"
    default_split = "validation"
    lm_eval_task = "piqa/piqa.yaml"
    fields = {"goal": is_str, "sol1": is_str, "sol2": is_str, "label": one_of(0, 1)}

    def cloze_parts(self, row: dict):
        choices = [row["sol1"], row["sol2"]]
        context = f"Question: {row['goal']}\nAnswer:"
        return [context] * 2, [" " + c for c in choices], choices, int(row["label"])

    def letter_parts(self, row: dict):
        return row["goal"], [row["sol1"], row["sol2"]], int(row["label"])
