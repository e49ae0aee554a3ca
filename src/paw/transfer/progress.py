"""Progress of a transfer on stderr: one line when each phase starts and ends, and per-item steps at most every few
seconds, so a minutes-long carry (loading bases, SVDs, probe passes, per-layer fits, writing) is never silent.

    with phase("loading the target base"):
        ...
    for i, pair in enumerate(pairs, 1):
        step(i, len(pairs), "modules carried")

Lines are plain (no `\\r`): they read the same in a terminal and in a log; stdout keeps only the result line.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator, TextIO

STEP_INTERVAL_S = 5.0  # a step line at most this often (the last step always prints)


class TransferProgress:
    def __init__(self, stream: TextIO | None = None, interval: float = STEP_INTERVAL_S, clock=time.monotonic):
        self.stream, self.interval, self.clock = stream, interval, clock
        self._last_step = float("-inf")

    def _print(self, text: str) -> None:
        print(f"transfer: {text}", file=self.stream or sys.stderr, flush=True)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = self.clock()
        self._print(f"{name} …")
        yield  # an exception passes through unannounced: the error line says what went wrong
        self._print(f"{name} done in {self.clock() - start:.1f} s")
        self._last_step = float("-inf")  # the next phase's first step prints at once

    def step(self, i: int, n: int, what: str) -> None:
        now = self.clock()
        if i < n and now - self._last_step < self.interval:
            return
        self._last_step = now
        self._print(f"{what} {i}/{n}")


_DEFAULT = TransferProgress()


def phase(name: str):
    """Context manager: `transfer: NAME …` on entry, `transfer: NAME done in X s` on success."""
    return _DEFAULT.phase(name)


def step(i: int, n: int, what: str) -> None:
    """`transfer: WHAT i/n`, at most every STEP_INTERVAL_S seconds, and always for i == n."""
    _DEFAULT.step(i, n, what)
