"""What a training run shows and keeps: log lines or a progress bar, loggers, resumable checkpoints.

In a terminal Lightning's progress bar is fine; in a log file it floods (`\r` updates) or stays silent until the
end (Rich), so without a TTY a rank-zero callback prints one plain line every N steps instead.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, TextIO

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback

from paw.errors import PawError

LAST_CHECKPOINT = "last.ckpt"


class LogLines(Callback):
    """One line each time the module closes a loss window (every N optimizer steps and at the last): step, the
    window's mean loss and its steps, lr, tokens/s, ETA; one line per validation. Only the global-zero process
    prints."""

    def __init__(self, max_steps: int, stream: TextIO | None = None):
        self.max_steps = max_steps
        self.stream = stream
        self._printed_step = -1

    def _print(self, trainer: pl.Trainer, text: str) -> None:
        if trainer.is_global_zero:
            print(text, file=self.stream or sys.stdout, flush=True)

    def on_train_start(self, trainer: pl.Trainer, pl_module: Any) -> None:
        self._start_time = time.perf_counter()
        self._start_step = trainer.global_step
        if trainer.global_step:
            self._print(trainer, f"resumed at step {trainer.global_step}/{self.max_steps}")

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        step, window = trainer.global_step, pl_module.train_loss
        if step == self._printed_step or window is None or window.last_step != step:
            return
        self._printed_step = step
        elapsed = time.perf_counter() - self._start_time
        done = max(1, step - self._start_step)
        eta = datetime.timedelta(seconds=round(elapsed / done * max(0, self.max_steps - step)))
        tokens_per_s = pl_module.tokens_seen * trainer.world_size / max(elapsed, 1e-9)
        lr = trainer.optimizers[0].param_groups[0]["lr"]
        self._print(
            trainer,
            f"step {step}/{self.max_steps}  loss {window.describe()}  lr {lr:.2e}  {tokens_per_s:,.0f} tok/s  "
            f"ETA {eta}",
        )

    def on_validation_end(self, trainer: pl.Trainer, pl_module: Any) -> None:
        if trainer.sanity_checking or not pl_module.val_history:
            return
        last = pl_module.val_history[-1]
        self._print(trainer, f"step {last['step']}/{self.max_steps}  val_loss {last['loss']:.4f}  val_acc {last['acc']:.4f}")


class StepCheckpoint(Callback):
    """`last.ckpt` in `dirpath` every `every` steps, replaced atomically. On a step that validates, it is written
    after the validation, so the validation history it carries is complete for that step."""

    def __init__(self, dirpath: Path, every: int, validates: Callable[[int], bool]):
        self.dirpath, self.every, self.validates = Path(dirpath), every, validates
        self._saved_step = -1

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        step = trainer.global_step
        if step % self.every == 0 and step and not self.validates(step):
            self._save(trainer, step)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: Any) -> None:
        step = trainer.global_step
        if not trainer.sanity_checking and step % self.every == 0 and step:
            self._save(trainer, step)

    def _save(self, trainer: pl.Trainer, step: int) -> None:
        if step == self._saved_step:
            return
        self._saved_step = step
        tmp = self.dirpath / f".tmp-{LAST_CHECKPOINT}"
        trainer.save_checkpoint(tmp)  # every rank calls it; only global zero writes
        if trainer.is_global_zero:
            os.replace(tmp, self.dirpath / LAST_CHECKPOINT)


def make_loggers(report_dir: Path, swanlab_mode: str, swanlab_project: str, resume: bool) -> list:
    """DVCLive always (its files become the stage's DVC metrics/plots); SwanLab when its mode asks for it."""
    os.environ.setdefault("DVC_STUDIO_OFFLINE", "1")
    from dvclive.lightning import DVCLiveLogger

    loggers: list = [
        DVCLiveLogger(dir=str(report_dir / "dvclive"), dvcyaml=None, save_dvc_exp=False, report=None, resume=resume)
    ]
    if swanlab_mode != "disabled":
        loggers.append(make_swanlab_logger(report_dir, swanlab_mode, swanlab_project))
    return loggers


def check_swanlab(mode: str) -> None:
    """Fail before any work when cloud logging cannot work (SwanLab would otherwise prompt or fail mid-run)."""
    if mode == "cloud" and not os.environ.get("SWANLAB_API_KEY"):
        raise PawError(
            "tracking.swanlab.mode = 'cloud' — expected SWANLAB_API_KEY in the environment "
            "(or set the mode to offline or disabled)"
        )


def make_swanlab_logger(report_dir: Path, mode: str, project: str):
    check_swanlab(mode)
    from swanlab.integration.pytorch_lightning import SwanLabLogger

    return SwanLabLogger(project=project, mode=mode, logdir=str(report_dir / "swanlog"))
