"""BoolQ (aps/super_glue, boolq), as lm-eval 0.4.13's boolq: validation split,
`{passage}\nQuestion: {question}?\nAnswer:`, choices ["no", "yes"], gold = label; lm-eval reports acc only."""

from __future__ import annotations

from paw.data.base import Task, is_str, one_of
from paw.data.registry import register_task

CHOICES = ["no", "yes"]


@register_task
class BoolQ(Task):
    name = "boolq"
    hub_id = "aps/super_glue"
    hub_config = "boolq"
    default_split = "validation"
    lm_eval_task = "super_glue/boolq/default.yaml"
    fields = {"passage": is_str, "question": is_str, "label": one_of(0, 1)}
    reports_acc_norm = False

    def cloze_parts(self, row: dict):
        context = f"{row['passage']}\nQuestion: {row['question']}?\nAnswer:"
        return [context] * 2, [" " + c for c in CHOICES], list(CHOICES), int(row["label"])

    def letter_parts(self, row: dict):
        return f"{row['passage']}\n{row['question']}?", list(CHOICES), int(row["label"])
