"""The thin LightningModule: one training step, validation scoring, the optimizer and its schedule.

Model code lives in paw.training.lora and paw.scoring; this file only adapts it to Lightning. Things Lightning
does not do for us:
- dropout is seeded per micro-batch from (seed, micro-batch index, rank), so a resumed run draws the same masks
  (Lightning checkpoints hold no RNG state);
- checkpoints hold only the trainable LoRA tensors (not the frozen base) plus the validation history;
- the schedule is computed from max_steps, never from `trainer.estimated_stepping_batches`;
- metrics go straight to the loggers at the optimizer step count (what the log lines and metrics.json call a
  step), and the training loss is the mean over each logging window (paw.training.loss_window), not one step.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any, Callable

import lightning.pytorch as pl
import torch

from paw.errors import PawError
from paw.scoring import argmax, sequence_logprobs
from paw.training.lora import answer_loss
from paw.training.loss_window import LossWindow, WindowLoss


def lr_factor(step: int, warmup_steps: int, max_steps: int, schedule: str) -> float:
    """Multiplier of the peak learning rate at optimizer step `step` (0-based): linear warmup, then the decay."""
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    if schedule == "constant":
        return 1.0
    progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    if schedule == "linear":
        return max(0.0, 1.0 - progress)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def dropout_seed(seed: int, micro: int, rank: int) -> int:
    return (seed * 1_000_003 + micro * 7_919 + rank) % (2**63)


class LoraModule(pl.LightningModule):
    def __init__(
        self,
        model: torch.nn.Module,
        lr: float,
        weight_decay: float,
        warmup_steps: int,
        max_steps: int,
        schedule: str,
        seed: int,
        fingerprint: str = "",
        objective: Callable[[torch.nn.Module, dict], torch.Tensor] = answer_loss,
        log_every: int = 10,
    ):
        super().__init__()
        self.objective = objective  # (model, batch) -> loss; gold answers by default (paw.training.distill_objective)
        self.fingerprint = fingerprint  # identifies the run's inputs; a checkpoint of other inputs is not resumed
        self.model = model
        self.lr, self.weight_decay, self.schedule = lr, weight_decay, schedule
        self.warmup_steps, self.max_steps, self.seed = warmup_steps, max_steps, seed
        self.strict_loading = False  # checkpoints carry the LoRA tensors only
        self.val_history: list[dict[str, float]] = []
        self.tokens_seen = 0  # non-padding tokens trained on by this process since it started
        self.loss_window = LossWindow(log_every, max_steps)
        self.train_loss: WindowLoss | None = None  # the last closed window
        self.resumed_from_step: int | None = None  # the checkpoint's step when this run resumed one
        self.train_seconds = 0.0  # wall time of the training loop in this process (setup and loading excluded)
        self.val_seconds = 0.0  # the part of it spent validating
        self._scores: list[torch.Tensor] = []

    # ---- training ----
    def on_train_start(self) -> None:
        self._train_started = time.perf_counter()

    def on_train_end(self) -> None:
        self.train_seconds = time.perf_counter() - self._train_started

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        torch.manual_seed(dropout_seed(self.seed, int(batch["micro"]), self.global_rank))
        loss = self.objective(self.model, batch)
        if not torch.isfinite(loss):
            raise PawError(
                f"training loss is {loss.item()} at step {self.global_step + 1} — lower train.lr "
                "(or the env block's lr), or train in precision 32"
            )
        self.tokens_seen += int(batch["attention_mask"].sum())
        self.loss_window.add(float(loss.detach()))
        return loss

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        super().optimizer_step(*args, **kwargs)
        # Closed here, before any callback's on_train_batch_end: the log line reads this window and a checkpoint
        # written at this step holds the next (empty) one. Lightning counts the step once this hook returns.
        step = self.global_step + 1
        if self.loss_window.closes_at(step):
            self._close_loss_window(step)

    def _close_loss_window(self, step: int) -> None:
        mean = torch.tensor(self.loss_window.mean(), device=self.device)
        value = float(self.trainer.strategy.reduce(mean, reduce_op="mean"))  # every process closes at this step
        self.train_loss = self.loss_window.close(step, value)
        # The rate this step used: the scheduler moves on after this hook.
        self._log_metrics({"train/loss": value, "train/lr": self.lr_schedulers().get_last_lr()[0]}, step)

    def _log_metrics(self, metrics: dict[str, float], step: int) -> None:
        """To every logger at `step` (Lightning's own logging would record step − 1, and with gradient
        accumulation once per micro-batch)."""
        if self.trainer.is_global_zero:
            for logger in self.loggers:
                logger.log_metrics(metrics, step=step)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.train_loss is not None:  # for the progress bar in a terminal
            self.log("train/loss", self.train_loss.value, on_step=True, on_epoch=False, prog_bar=True, logger=False)
        # Stopping here (rather than letting max_steps end the loop) makes Lightning validate the final weights.
        if self.global_step >= self.max_steps and self.validated_steps()[-1:] != [self.global_step]:
            self.trainer.should_stop = True

    # ---- validation: per-choice log-likelihoods, accuracy = argmax like the evaluation ----
    def on_validation_epoch_start(self) -> None:
        self._scores = []
        self._val_started = time.perf_counter()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        sums, counts = sequence_logprobs(self.model, batch)
        self._scores.append(
            torch.stack([batch["item"].float(), batch["gold"].float(), sums.float(), counts.float()], 1).cpu()
        )

    def on_validation_epoch_end(self) -> None:
        if not self._scores or self.trainer.sanity_checking:
            return
        scores = torch.cat(self._scores)
        gold = scores[scores[:, 1] == 1]
        loss = float(-gold[:, 2].sum() / gold[:, 3].sum())
        correct = []
        for item in scores[:, 0].unique():
            rows = scores[scores[:, 0] == item]
            correct.append(float(rows[argmax(rows[:, 2].tolist()), 1]))
        acc = sum(correct) / len(correct)
        self.val_history.append({"step": self.global_step, "loss": loss, "acc": acc})
        self.val_seconds += time.perf_counter() - self._val_started
        self._log_metrics({"val/loss": loss, "val/acc": acc}, self.global_step)

    def validated_steps(self) -> list[int]:
        return [int(entry["step"]) for entry in self.val_history]

    # ---- optimizer ----
    def configure_optimizers(self):
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=self.lr, weight_decay=self.weight_decay)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: lr_factor(step, self.warmup_steps, self.max_steps, self.schedule)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # ---- checkpoints: LoRA tensors and validation history only ----
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        trainable = {f"model.{name}" for name, p in self.model.named_parameters() if p.requires_grad}
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k in trainable}
        checkpoint["paw_val_history"] = list(self.val_history)
        checkpoint["paw_fingerprint"] = self.fingerprint
        checkpoint["paw_loss_window"] = self.loss_window.state_dict()
        checkpoint["paw_train_loss"] = dataclasses.asdict(self.train_loss) if self.train_loss else None

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.val_history = list(checkpoint.get("paw_val_history", []))
        self.resumed_from_step = int(checkpoint.get("global_step", 0))
        window = checkpoint.get("paw_loss_window") or {"total": 0.0, "count": 0, "closed_at": self.resumed_from_step}
        self.loss_window.load_state_dict(window)
        train_loss = checkpoint.get("paw_train_loss")
        self.train_loss = WindowLoss(**train_loss) if train_loss else None
