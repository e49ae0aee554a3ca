"""HellaSwag (Rowan/hellaswag), as lm-eval 0.4.13's hellaswag: validation split.

query = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()) — `capitalize()` also lowercases
the rest of ctx_b; choices = preprocess(ending); gold = int(label). preprocess strips, turns " [title]" into
". ", removes every `[...]` marker, then replaces "  " with " " in one pass, with no final strip — so
"[step] Pour" can keep a leading space, as in lm-eval.
"""

from __future__ import annotations

import re

from paw.data.base import Task, is_str, is_str_list, one_of
from paw.data.registry import register_task

_MARKER = re.compile(r"\[.*?\]")


def preprocess(text: str) -> str:
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = _MARKER.sub("", text)
    return text.replace("  ", " ")


@register_task
class HellaSwag(Task):
    name = "hellaswag"
    hub_id = "Rowan/hellaswag"
    default_split = "validation"
    lm_eval_task = "hellaswag/hellaswag.yaml"
    fields = {
        "activity_label": is_str,
        "ctx_a": is_str,
        "ctx_b": is_str,
        "endings": is_str_list,
        "label": one_of("0", "1", "2", "3", 0, 1, 2, 3),
    }

    def query(self, row: dict) -> str:
        return preprocess(row["activity_label"] + ": " + row["ctx_a"] + " " + row["ctx_b"].capitalize())

    def cloze_parts(self, row: dict):
        choices = [preprocess(ending) for ending in row["endings"]]
        return [self.query(row)] * len(choices), [" " + c for c in choices], choices, int(row["label"])

    def letter_parts(self, row: dict):
        return self.query(row), [preprocess(ending) for ending in row["endings"]], int(row["label"])

    def row_id(self, row: dict, index: int):
        return index  # `ind` is not unique across splits: rows without an `id` are named by their index
