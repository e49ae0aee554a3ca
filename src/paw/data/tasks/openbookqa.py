"""OpenBookQA (allenai/openbookqa, main), as lm-eval 0.4.13's openbookqa: test split, context = question_stem
alone, choices = choices.text, gold = choices.label.index(answerKey.lstrip())."""

from __future__ import annotations

from paw.data.base import Task, is_nonempty_str, is_str, labeled_choices
from paw.data.registry import register_task
from paw.errors import PawError


@register_task
class OpenBookQA(Task):
    name = "openbookqa"
    hub_id = "allenai/openbookqa"
    hub_config = "main"
    default_split = "test"
    lm_eval_task = "openbookqa/openbookqa.yaml"
    fields = {"question_stem": is_str, "choices": labeled_choices, "answerKey": is_nonempty_str}

    def gold(self, row: dict) -> int:
        return row["choices"]["label"].index(row["answerKey"].lstrip())

    def check_gold(self, row: dict, where: str) -> None:
        if row["answerKey"].lstrip() not in row["choices"]["label"]:
            raise PawError(
                f"{where}: field 'answerKey' = {row['answerKey']!r} — expected one of the labels "
                f"{row['choices']['label']}"
            )

    def cloze_parts(self, row: dict):
        choices = list(row["choices"]["text"])
        return [row["question_stem"]] * len(choices), [" " + c for c in choices], choices, self.gold(row)

    def letter_parts(self, row: dict):
        return row["question_stem"], list(row["choices"]["text"]), self.gold(row)
