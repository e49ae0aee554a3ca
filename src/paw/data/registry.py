"""Task names → task classes. Adding a dataset: write paw/data/tasks/<name>.py and list its class here."""

from __future__ import annotations

import difflib

from paw.data.base import Task
from paw.data.tasks.arc import ArcChallenge, ArcEasy, ToyFacts
from paw.data.tasks.boolq import BoolQ
from paw.data.tasks.hellaswag import HellaSwag
from paw.data.tasks.openbookqa import OpenBookQA
from paw.data.tasks.piqa import Piqa
from paw.data.tasks.winogrande import Winogrande

_TASKS: dict[str, type[Task]] = {
    cls.name: cls for cls in (ArcChallenge, ArcEasy, Piqa, HellaSwag, Winogrande, OpenBookQA, BoolQ, ToyFacts)
}
KNOWN_TASKS: tuple[str, ...] = tuple(_TASKS)


def get_task(name: str) -> Task:
    """The task called `name` (lm-eval's underscore spelling, e.g. arc_easy, is accepted too)."""
    from paw.errors import PawError

    key = str(name).strip().lower().replace("_", "-")
    if key not in _TASKS:
        close = difflib.get_close_matches(key, KNOWN_TASKS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise PawError(f"dataset = {name!r} is not a known dataset{hint} — expected one of {', '.join(KNOWN_TASKS)}")
    return _TASKS[key]()
