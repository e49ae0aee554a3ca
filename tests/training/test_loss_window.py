"""The reported training loss: windows close every N steps and at the last, and a checkpointed window resumes."""

from __future__ import annotations

import pytest

from paw.training.loss_window import LossWindow, WindowLoss


def _run(window: LossWindow, losses_per_step: dict[int, list[float]]) -> list[WindowLoss]:
    closed = []
    for step, losses in losses_per_step.items():
        for loss in losses:
            window.add(loss)
        if window.closes_at(step):
            closed.append(window.close(step, window.mean()))
    return closed


def test_windows_close_every_n_steps_and_at_the_last():
    losses = {step: [float(step), float(step) + 1] for step in range(1, 8)}  # two micro-batches a step
    closed = _run(LossWindow(every=3, max_steps=7), losses)
    assert [(w.first_step, w.last_step) for w in closed] == [(1, 3), (4, 6), (7, 7)]
    assert [w.value for w in closed] == pytest.approx([2.5, 5.5, 7.5])
    assert closed[0].describe() == "2.5000 (mean of steps 1-3)"


def test_a_window_closes_once_per_step():
    window = LossWindow(every=2, max_steps=4)
    window.add(1.0)
    assert window.closes_at(2)
    window.close(2, window.mean())
    assert not window.closes_at(2)  # the next micro-batches of step 3 still see global step 2


def test_a_restored_open_window_gives_the_uninterrupted_windows():
    losses = {step: [float(step * step)] for step in range(1, 9)}
    straight = _run(LossWindow(every=4, max_steps=8), losses)
    first = LossWindow(every=4, max_steps=8)
    _run(first, {s: v for s, v in losses.items() if s <= 5})  # a checkpoint after step 5, mid-window
    resumed = LossWindow(every=4, max_steps=8)
    resumed.load_state_dict(first.state_dict())
    assert _run(resumed, {s: v for s, v in losses.items() if s > 5}) == straight[1:]
