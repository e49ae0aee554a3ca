"""Progress for long evaluations, counted in items (questions), not in scored choices: a rich bar in a terminal;
in a log, one short line every ~10% (no `\r`). Both go to stderr, so stdout holds only the result lines."""

from __future__ import annotations

import sys
import time
from typing import Callable


class Progress:
    def __init__(self, total: int, label: str, enabled: bool = True, every_percent: int = 10, unit: str = "items"):
        self.total, self.label, self.done, self.unit = max(total, 1), label, 0, unit
        self.enabled = enabled
        self.every = every_percent
        self.next_mark = every_percent
        self.start = time.perf_counter()
        self.bar = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(transient=True, console=Console(stderr=True))
            self.task = self.bar.add_task(label, total=self.total)
            self.bar.start()

    def advance(self, n: int) -> None:
        self.done += n
        if not self.enabled or n == 0:
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)
            return
        percent = 100 * self.done // self.total
        if percent >= self.next_mark:
            elapsed = time.perf_counter() - self.start
            print(f"{self.label}: {percent}% ({self.done}/{self.total} {self.unit}, {elapsed:.0f} s)",
                  file=sys.stderr, flush=True)
            while self.next_mark <= percent:
                self.next_mark += self.every

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


class ItemsDone:
    """Turns the request numbers a batch finished into the number of items that are now complete (every choice of
    the item scored): `choices[i]` is item i's request count, requests numbered item by item."""

    def __init__(self, choices: list[int], advance: Callable[[int], None]):
        self.item_of = [item for item, n in enumerate(choices) for _ in range(n)]
        self.remaining = list(choices)
        self.advance = advance

    def __call__(self, requests: set[int]) -> None:
        finished = 0
        for request in requests:
            item = self.item_of[request]
            self.remaining[item] -= 1
            finished += self.remaining[item] == 0
        self.advance(finished)
