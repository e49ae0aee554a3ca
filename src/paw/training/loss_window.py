"""The training loss as every output reports it: the mean over a logging window.

A window is the optimizer steps since the previous log line (steps 31-40 when logging every 10). The log line,
DVCLive's `train/loss`, metrics.json's `final_train_loss` and `paw train`'s closing line all show this one value,
so none of them is a single noisy step and all of them agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WindowLoss:
    """Mean loss per micro-batch over steps first_step..last_step (each micro-batch's loss is the mean negative
    log-likelihood per answer token of its batch), averaged over processes."""

    value: float
    first_step: int
    last_step: int

    def describe(self) -> str:
        return f"{self.value:.4f} (mean of steps {self.first_step}-{self.last_step})"


class LossWindow:
    """Micro-batch losses since the last report; a window closes at every `every`-th step and at the last."""

    def __init__(self, every: int, max_steps: int):
        self.every, self.max_steps = every, max_steps
        self.total, self.count, self.closed_at = 0.0, 0, 0

    def add(self, loss: float) -> None:
        self.total += loss
        self.count += 1

    def closes_at(self, step: int) -> bool:
        return step > self.closed_at and (step % self.every == 0 or step >= self.max_steps)

    def mean(self) -> float:
        return self.total / max(1, self.count)

    def close(self, step: int, value: float) -> WindowLoss:
        """End the window at `step` with its `value` (this process's mean, or that averaged over processes)."""
        closed = WindowLoss(value, self.closed_at + 1, step)
        self.total, self.count, self.closed_at = 0.0, 0, step
        return closed

    # A checkpoint carries the open window, so a resumed run reports the same windows as an uninterrupted one.
    def state_dict(self) -> dict[str, Any]:
        return {"total": self.total, "count": self.count, "closed_at": self.closed_at}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.total, self.count, self.closed_at = float(state["total"]), int(state["count"]), int(state["closed_at"])
