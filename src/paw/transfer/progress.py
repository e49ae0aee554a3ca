"""Progress of a transfer on stderr: a phase that runs longer than a moment announces itself and its end, and
per-item steps print at most every few seconds, so a minutes-long carry (loading bases, SVDs, probe passes,
per-layer fits, writing) is never silent — while a quick one (and a bad input refused in a second) prints nothing
but its result or its one error line.

    with phase("loading the target base"):
        ...
    for i, pair in enumerate(pairs, 1):
        step(i, len(pairs), "modules carried")

Lines are plain (no `\\r`): they read the same in a terminal and in a log; stdout keeps only the result line.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator, TextIO

STEP_INTERVAL_S = 5.0  # a step line at most this often (the last step of an announced phase always prints)
ANNOUNCE_AFTER_S = 2.0  # a phase still running after this long gets its start line (and later its end line)


class TransferProgress:
    def __init__(self, stream: TextIO | None = None, interval: float = STEP_INTERVAL_S,
                 announce_after: float = ANNOUNCE_AFTER_S, clock=time.monotonic, timer=threading.Timer):
        self.stream, self.interval, self.announce_after = stream, interval, announce_after
        self.clock, self.timer = clock, timer
        self._last_step = float("-inf")
        self._announced = False
        self._lock = threading.Lock()

    def _print(self, text: str) -> None:
        print(f"transfer: {text}", file=self.stream or sys.stderr, flush=True)

    def _announce(self, name: str) -> None:
        with self._lock:
            if not self._announced:
                self._announced = True
                self._print(f"{name} …")

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = self.clock()
        self._announced, self._last_step = False, float("-inf")
        timer = self.timer(self.announce_after, self._announce, args=(name,))
        timer.daemon = True
        timer.start()
        try:
            yield  # an exception passes through unannounced: the error line says what went wrong
        finally:
            timer.cancel()
        if self._announced or self.clock() - start >= self.announce_after:
            self._announce(name)
            self._print(f"{name} done in {self.clock() - start:.1f} s")
        self._announced = False

    def step(self, i: int, n: int, what: str) -> None:
        now = self.clock()
        last_of_announced = i == n and self._announced
        if not (self._announced and now - self._last_step >= self.interval) and not last_of_announced:
            return
        self._last_step = now
        self._print(f"{what} {i}/{n}")


_DEFAULT = TransferProgress()


def phase(name: str):
    """Context manager: `transfer: NAME …` once it has run ANNOUNCE_AFTER_S, then `transfer: NAME done in X s`."""
    return _DEFAULT.phase(name)


def step(i: int, n: int, what: str) -> None:
    """`transfer: WHAT i/n` in an announced phase, at most every STEP_INTERVAL_S seconds, and always for i == n."""
    _DEFAULT.step(i, n, what)
