"""WinoGrande (allenai/winogrande, winogrande_xl), as lm-eval 0.4.13's winogrande: validation split.

The choice goes into the context: contexts = [sentence[:i] + option1, sentence[:i] + option2] with
i = sentence.index("_"); both share one continuation " " + sentence[i+1:].strip(); gold = {"1": 0, "2": 1}[answer].
lm-eval reports acc only; acc_norm here divides by the context strings' lengths, as lm-eval's own formula would.
"""

from __future__ import annotations

from paw.data.base import Task, is_str, one_of
from paw.data.registry import register_task
from paw.errors import PawError


@register_task
class Winogrande(Task):
    name = "winogrande"
    hub_id = "allenai/winogrande"
    hub_config = "winogrande_xl"
    default_split = "validation"
    lm_eval_task = "winogrande/default.yaml"
    fields = {"sentence": is_str, "option1": is_str, "option2": is_str, "answer": one_of("1", "2")}
    reports_acc_norm = False

    def check_gold(self, row: dict, where: str) -> None:
        if "_" not in row["sentence"]:
            raise PawError(f"{where}: field 'sentence' has no '_' — expected the blank the options fill")

    def cloze_parts(self, row: dict):
        sentence = row["sentence"]
        blank = sentence.index("_")
        contexts = [sentence[:blank] + row["option1"], sentence[:blank] + row["option2"]]
        continuation = " " + sentence[blank + 1 :].strip()
        return contexts, [continuation] * 2, contexts, {"1": 0, "2": 1}[row["answer"]]

    def letter_parts(self, row: dict):
        return row["sentence"], [row["option1"], row["option2"]], {"1": 0, "2": 1}[row["answer"]]
