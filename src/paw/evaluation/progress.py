"""Progress for long evaluations: a rich bar in a terminal; in a log, one short line every ~10% (no `\r`)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str, enabled: bool = True, every_percent: int = 10):
        self.total, self.label, self.done = max(total, 1), label, 0
        self.enabled = enabled
        self.every = every_percent
        self.next_mark = every_percent
        self.start = time.perf_counter()
        self.bar = None
        if enabled and sys.stdout.isatty():
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(transient=True)
            self.task = self.bar.add_task(label, total=self.total)
            self.bar.start()

    def advance(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)
            return
        percent = 100 * self.done // self.total
        if percent >= self.next_mark:
            elapsed = time.perf_counter() - self.start
            print(f"{self.label}: {percent}% ({self.done}/{self.total}, {elapsed:.0f} s)", flush=True)
            while self.next_mark <= percent:
                self.next_mark += self.every

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
