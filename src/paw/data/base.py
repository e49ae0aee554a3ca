"""What every benchmark task shares: the `Item` it yields, the two prompt styles, row-field checks.

A task turns one dataset row (hub schema) into an `Item`: one (context, continuation) pair per choice, the gold
index, and the choice strings whose character lengths `acc_norm` divides by — exactly as lm-eval 0.4.13 builds
its loglikelihood requests, so scores can be compared with papers.

Prompt styles:
- `cloze` (lm-eval's): the task's own context; each choice scored as " " + choice text (the target delimiter).
- `letter` (PAW's): the question, one line per choice, then `Answer:`; the letters are scored:

      Question: {question}
      A. {choice 0}
      B. {choice 1}
      Answer:
  with continuations " A", " B", … (`acc_norm` equals `acc`: every letter is one character).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from paw.data.sources import load_task_rows
from paw.errors import PawError

TARGET_DELIMITER = " "
LETTERS = string.ascii_uppercase
STYLES = ("cloze", "letter")


@dataclass(frozen=True)
class Item:
    """One question, ready to score: contexts[i] + continuations[i] is choice i's request."""

    id: str | int
    contexts: list[str]
    continuations: list[str]
    gold: int
    choice_texts: list[str]


def letter_prompt(question: str, choices: list[str]) -> str:
    """PAW's letter format (see the module docstring)."""
    lines = [f"Question: {question}"]
    lines += [f"{LETTERS[i]}. {choice}" for i, choice in enumerate(choices)]
    lines.append("Answer:")
    return "\n".join(lines)


# ---- row-field checks: each returns None when fine, else the phrase "expected …" ----

FieldCheck = Callable[[Any], str | None]


def is_str(value: Any) -> str | None:
    return None if isinstance(value, str) else "a string"


def is_nonempty_str(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "a non-empty string"


def is_str_list(value: Any) -> str | None:
    ok = isinstance(value, list) and len(value) >= 2 and all(isinstance(v, str) for v in value)
    return None if ok else "a list of at least two strings"


def one_of(*allowed: Any) -> FieldCheck:
    return lambda value: None if value in allowed else f"one of {', '.join(repr(a) for a in allowed)}"


def labeled_choices(value: Any) -> str | None:
    """ARC/OpenBookQA `choices`: {"text": [...], "label": [...]} of equal length."""
    if not isinstance(value, dict) or is_str_list(value.get("text")) or is_str_list(value.get("label")):
        return 'a mapping {"text": [strings], "label": [strings]} with at least two choices'
    if len(value["text"]) != len(value["label"]):
        return "as many labels as texts"
    return None


class Task:
    """A benchmark: where its rows come from, which fields they must have, how a row becomes an `Item`.

    Subclasses set the class attributes and implement `cloze_parts` and `letter_parts`; adding a dataset is one
    file in paw/data/tasks/ whose class is decorated with `@register_task` (paw.data.registry).
    """

    name: str = ""
    hub_id: str | None = None  # datasets.load_dataset(hub_id, hub_config); None = local files only
    hub_config: str | None = None
    default_split: str = "test"  # the split lm-eval 0.4.13 evaluates
    lm_eval_task: str | None = None  # lm-eval 0.4.13's task file under lm_eval/tasks; None = lm-eval has none
    fields: dict[str, FieldCheck] = {}
    reports_acc_norm: bool = True  # lm-eval lists acc_norm for this task

    # -- loading --
    def load_rows(self, split: str | None = None, data_path: str | Path | None = None) -> list[dict]:
        return load_task_rows(self, split or self.default_split, data_path)

    def check_row(self, row: Any, where: str) -> None:
        """PawError naming the field and `where` (file and row) when `row` does not fit the hub schema."""
        if not isinstance(row, dict):
            raise PawError(f"{where}: expected a JSON object with fields {', '.join(self.fields)}")
        for field, check in self.fields.items():
            if field not in row:
                raise PawError(f"{where}: field '{field}' is missing — expected {check(None) or 'a value'}")
            problem = check(row[field])
            if problem:
                raise PawError(f"{where}: field '{field}' = {_short(row[field])} — expected {problem}")
        self.check_gold(row, where)

    def check_gold(self, row: dict, where: str) -> None:
        """Tasks whose gold depends on several fields check it here (e.g. ARC's answerKey among the labels)."""

    # -- prompts --
    def cloze_parts(self, row: dict) -> tuple[list[str], list[str], list[str], int]:
        """(contexts, continuations, choice_texts, gold) exactly as lm-eval 0.4.13 builds them."""
        raise NotImplementedError

    def letter_parts(self, row: dict) -> tuple[str, list[str], int]:
        """(question, choices, gold) for PAW's letter style."""
        raise NotImplementedError

    def row_id(self, row: dict, index: int) -> str | int:
        """The row's own `id` where the dataset has one, else its 0-based index in the split."""
        value = row.get("id")
        return value if isinstance(value, (str, int)) and not isinstance(value, bool) else index

    def to_item(self, row: dict, index: int, style: str = "cloze") -> Item:
        if style == "cloze":
            contexts, continuations, choice_texts, gold = self.cloze_parts(row)
        elif style == "letter":
            question, choices, gold = self.letter_parts(row)
            if len(choices) > len(LETTERS):
                raise PawError(
                    f"{self.name}: row {index} has {len(choices)} choices — the letter prompt style supports at most "
                    f"{len(LETTERS)}; use prompt_style: cloze"
                )
            prompt = letter_prompt(question, choices)
            letters = list(LETTERS[: len(choices)])
            contexts = [prompt] * len(choices)
            continuations = [TARGET_DELIMITER + letter for letter in letters]
            choice_texts = letters
        else:
            raise PawError(f"prompt_style = {style!r} — expected one of {', '.join(STYLES)}")
        return Item(self.row_id(row, index), contexts, continuations, gold, choice_texts)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
