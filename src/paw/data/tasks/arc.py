"""ARC-Challenge and ARC-Easy (allenai/ai2_arc), as lm-eval 0.4.13's arc_challenge / arc_easy.

Cloze: `Question: {question}\nAnswer:`, choices = choices.text, gold = choices.label.index(answerKey).
Real rows have digit labels ("1".."4") on some questions and 3 or 5 choices on a few.
"""

from __future__ import annotations

from paw.data.base import Task, is_nonempty_str, is_str, labeled_choices
from paw.data.registry import register_task
from paw.errors import PawError


class ArcTask(Task):
    hub_id = "allenai/ai2_arc"
    default_split = "test"
    fields = {"question": is_str, "choices": labeled_choices, "answerKey": is_nonempty_str}

    def gold(self, row: dict) -> int:
        return row["choices"]["label"].index(row["answerKey"])

    def check_gold(self, row: dict, where: str) -> None:
        if row["answerKey"] not in row["choices"]["label"]:
            raise PawError(
                f"{where}: field 'answerKey' = {row['answerKey']!r} — expected one of the labels "
                f"{row['choices']['label']}"
            )

    def cloze_parts(self, row: dict):
        choices = list(row["choices"]["text"])
        context = f"Question: {row['question']}\nAnswer:"
        return [context] * len(choices), [" " + c for c in choices], choices, self.gold(row)

    def letter_parts(self, row: dict):
        return row["question"], list(row["choices"]["text"]), self.gold(row)


@register_task
class ArcChallenge(ArcTask):
    name = "arc-challenge"
    hub_config = "ARC-Challenge"
    lm_eval_task = "arc/arc_challenge.yaml"


@register_task
class ArcEasy(ArcTask):
    name = "arc-easy"
    hub_config = "ARC-Easy"
    lm_eval_task = "arc/arc_easy.yaml"


@register_task
class ToyFacts(ArcTask):
    """Questions about the embedded toy world (written by `paw toy`), in the ARC schema; local files only."""

    name = "toy-facts"
    hub_id = None
    hub_config = None
