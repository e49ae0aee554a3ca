"""Benchmark tasks and their data: rows in each dataset's hub schema, turned into scoring items as lm-eval 0.4.13.

API (the training and evaluation engines code against these names):

    from paw.data import get_task, KNOWN_TASKS, sample_rows, sample_indices, Item

    task = get_task("arc-challenge")      # PawError listing KNOWN_TASKS (and the closest) for an unknown name
    task.name, task.default_split         # "arc-challenge", "test"
    rows = task.load_rows(split=None, data_path=None)
        # list[dict] in the hub schema. data_path: a dir with <split>.jsonl/.json/.parquet, or one file;
        # None = datasets.load_dataset(hub id). Every row's fields are checked (PawError naming file, row, field);
        # an empty file is an error. toy-facts has no hub id: data_path is required (e.g. data/toy).
    item = task.to_item(row, index, style="cloze")   # or style="letter"
        # Item(id, contexts, continuations, gold, choice_texts): one context and one continuation per choice
        # (WinoGrande: per-option contexts, one shared continuation); continuations start with the " " delimiter.
        # choice_texts are the strings whose character lengths acc_norm divides by.
    subset = sample_rows(rows, sample_ratio, max_samples, seed)
        # seeded subset in input order, the same for every model (depends only on seed, ratio, cap, row count);
        # sample_indices(n_rows, ...) gives the chosen row indices.

Tasks: arc-challenge, arc-easy (test), piqa, hellaswag, winogrande, boolq (validation), openbookqa (test),
toy-facts (ARC schema, test, local only); KNOWN_TASKS is every registered name (see paw.data.registry).
Letter style (PAW's), for every task:
`Question: {q}\nA. {choice}\nB. {choice}\n…\nAnswer:` scoring " A", " B", …; more than 26 choices is an error.
"""

from paw.data.base import STYLES, Item, Task, letter_prompt
from paw.data.registry import get_task, known_tasks, register_task
from paw.data.sampling import sample_indices, sample_rows

__all__ = ["KNOWN_TASKS", "STYLES", "Item", "Task", "get_task", "known_tasks", "letter_prompt", "register_task",
           "sample_indices", "sample_rows"]


def __getattr__(name: str) -> tuple[str, ...]:
    # KNOWN_TASKS is read when asked for: the task modules register themselves on the first lookup.
    if name == "KNOWN_TASKS":
        return known_tasks()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
