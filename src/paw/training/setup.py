"""`TrainSetup`: everything a training run needs besides the model and the data, in one frozen record — the
params sections plus the selected machine profile's values (`TrainSetup.from_params`), or any of them changed
(`setup.replace(max_steps=10)`, as distillation does)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from paw.training.params import LoraParams, TrackingParams, TrainParams


@dataclass(frozen=True)
class TrainSetup:
    """Everything a run needs besides the model and data: params sections plus the machine profile's values."""

    train: TrainParams = field(default_factory=TrainParams)
    lora: LoraParams = field(default_factory=LoraParams)
    tracking: TrackingParams = field(default_factory=TrackingParams)
    lr: float = 1.0e-5
    batch_size: int = 8  # sequences per process per micro-batch
    grad_accum: int = 1
    max_steps: int = 100
    precision: str = "32"
    devices: int = 1
    strategy: str = "auto"
    seed: int = 0
    trust_remote_code: bool = False

    def replace(self, **changes: Any) -> "TrainSetup":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_params(cls, params) -> "TrainSetup":
        """The pipeline's training: the shared sections with the selected env's batch, steps, precision, devices."""
        profile = params.profile
        return cls(
            train=params.train, lora=params.lora, tracking=params.tracking, lr=params.lr,
            batch_size=profile.train_batch_size, grad_accum=profile.grad_accum, max_steps=profile.max_steps,
            precision=profile.precision, devices=profile.devices, strategy=profile.strategy, seed=params.seed,
            trust_remote_code=params.models.trust_remote_code,
        )  # fmt: skip
