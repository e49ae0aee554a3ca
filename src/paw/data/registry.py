"""Task names → task classes. Adding a dataset: one file in paw/data/tasks/ whose `Task` subclass is decorated with
`@register_task`; every module there is imported on the first lookup."""

from __future__ import annotations

from paw.data.base import Task
from paw.registry import Registry


def canonical_name(name: str) -> str:
    """lm-eval's underscore spelling (arc_easy) and any case name the same task as PAW's (arc-easy)."""
    return name.strip().lower().replace("_", "-")


TASKS: Registry[Task] = Registry("dataset", Task, key="dataset", package="paw.data.tasks", normalize=canonical_name)
register_task = TASKS.register


def known_tasks() -> tuple[str, ...]:
    return tuple(TASKS.names())


def get_task(name: str) -> Task:
    """The task called `name`, ready to load rows and build items."""
    return TASKS.get(name)()
