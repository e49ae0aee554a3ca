"""Transfer progress: a slow phase announces its start and end and throttles its steps; a quick one stays silent."""

from __future__ import annotations

import io

import pytest

from paw.transfer.progress import TransferProgress


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class ManualTimer:
    """Stands in for threading.Timer: fires when the test says the delay has passed."""

    made: list["ManualTimer"] = []

    def __init__(self, delay, function, args=()):
        self.function, self.args, self.cancelled = function, args, False
        ManualTimer.made.append(self)

    def start(self):
        pass

    def cancel(self):
        self.cancelled = True

    def fire(self):
        if not self.cancelled:
            self.function(*self.args)


def test_a_slow_phase_announces_itself_and_throttles_steps():
    out, clock = io.StringIO(), Clock()
    progress = TransferProgress(stream=out, interval=5.0, clock=clock, timer=ManualTimer)
    with progress.phase("SVDs of the target"):
        clock.now = 2.0
        ManualTimer.made[-1].fire()  # still running after 2 s: announced
        for i in range(1, 11):
            clock.now += 2.0  # a step every 2 s: printed at 4 s, 10 s (≥ 5 s later), 16 s, and the last at 22 s
            progress.step(i, 10, "modules")
    assert out.getvalue().splitlines() == [
        "transfer: SVDs of the target …", "transfer: modules 1/10", "transfer: modules 4/10",
        "transfer: modules 7/10", "transfer: modules 10/10", "transfer: SVDs of the target done in 22.0 s",
    ]  # fmt: skip


def test_a_quick_phase_prints_nothing():
    out, clock = io.StringIO(), Clock()
    progress = TransferProgress(stream=out, clock=clock, timer=ManualTimer)
    with progress.phase("loading the source base"):
        clock.now = 0.5
        progress.step(1, 1, "modules")
    ManualTimer.made[-1].fire()  # cancelled when the phase ended: fires nothing
    assert out.getvalue() == ""


def test_a_failing_phase_prints_no_done_line():
    out, clock = io.StringIO(), Clock()
    progress = TransferProgress(stream=out, clock=clock, timer=ManualTimer)
    with pytest.raises(ValueError):
        with progress.phase("loading the source base"):
            ManualTimer.made[-1].fire()
            raise ValueError("boom")
    assert out.getvalue() == "transfer: loading the source base …\n"


def test_module_functions_write_to_stderr(capsys):
    from paw.transfer.progress import TransferProgress, phase

    real = TransferProgress(announce_after=0.05)
    with real.phase("writing"):
        __import__("time").sleep(0.3)  # the real timer announces a phase that outlives its delay
    with phase("quick"):
        pass
    captured = capsys.readouterr()
    assert captured.out == "" and "transfer: writing …" in captured.err and "writing done in" in captured.err
    assert "quick" not in captured.err


def test_activation_probe_passes_report_each_text_per_base(tiny_models, adapters, probe_file, tmp_path, monkeypatch):
    """The probe phase of `activation` (minutes on real bases) steps through its texts, one base after the other."""
    import paw.transfer.activations as activations
    from paw.transfer.api import run_transfer

    steps = []
    monkeypatch.setattr(activations, "step", lambda i, n, what: steps.append((what, i, n)))
    run_transfer(tiny_models["llama"], adapters["llama"], tiny_models["qwen2"], tmp_path / "out",
                 method="activation", svd_rank=16, options={"activation": {"probe_file": str(probe_file)}})
    probe = [(what, i, n) for what, i, n in steps if what.startswith("probe texts")]
    n = probe[0][2]
    source, target = tiny_models["llama"].name, tiny_models["qwen2"].name
    assert probe == ([(f"probe texts through source {source}", i, n) for i in range(1, n + 1)]
                     + [(f"probe texts through target {target}", i, n) for i in range(1, n + 1)])
