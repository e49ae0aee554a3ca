"""Transfer progress: a line per phase start and end, steps throttled to one every few seconds plus the last."""

from __future__ import annotations

import io

import pytest

from paw.transfer.progress import TransferProgress


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_phases_and_throttled_steps():
    out, clock = io.StringIO(), Clock()
    progress = TransferProgress(stream=out, interval=5.0, clock=clock)
    with progress.phase("SVDs of the target"):
        for i in range(1, 11):
            clock.now += 2.0  # a step every 2 s: printed at 2 s, 8 s (≥ 5 s later), 14 s, and the last at 20 s
            progress.step(i, 10, "modules")
    assert out.getvalue().splitlines() == [
        "transfer: SVDs of the target …", "transfer: modules 1/10", "transfer: modules 4/10",
        "transfer: modules 7/10", "transfer: modules 10/10", "transfer: SVDs of the target done in 20.0 s",
    ]  # fmt: skip


def test_a_failing_phase_prints_no_done_line():
    out = io.StringIO()
    progress = TransferProgress(stream=out)
    with pytest.raises(ValueError):
        with progress.phase("loading the source base"):
            raise ValueError("boom")
    assert out.getvalue() == "transfer: loading the source base …\n"


def test_module_functions_write_to_stderr(capsys):
    from paw.transfer.progress import phase, step

    with phase("writing"):
        step(1, 1, "files")
    captured = capsys.readouterr()
    assert captured.out == "" and "transfer: writing done in" in captured.err and "files 1/1" in captured.err
