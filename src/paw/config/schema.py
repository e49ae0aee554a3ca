"""The params.yaml schema: one frozen dataclass per section, each section defined beside the code that reads it.

`Params` is the whole file; `Params.profile` is the environment block selected by `env`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from paw.fields import in_open_closed, non_negative, one_of, param, positive
from paw.data.params import DataParams
from paw.evaluation.params import EvalParams
from paw.models.params import ModelsParams
from paw.reporting.params import ReportParams
from paw.toy.params import ToyParams
from paw.training.params import LoraParams, TrackingParams, TrainParams
from paw.transfer.params import TransferParams

PRECISIONS = ("32", "bf16-mixed", "16-mixed", "bf16-true")
STRATEGIES = ("auto", "ddp", "fsdp")


@dataclass(frozen=True, kw_only=True)
class EnvProfile:
    """What differs by machine. `null` in an optional field means: use the shared section's value."""

    models_dir: str = param(expect="a directory path")  # where base models live, relative to the repo root
    source_model: str = param(expect="a model directory name under models_dir")  # the base the LoRA is trained on
    target_model: str = param(expect="a model directory name under models_dir")  # the base it is transferred to
    train_batch_size: int = param(check=positive, expect="a positive integer")  # sequences per device per step
    grad_accum: int = param(1, check=positive, expect="a positive integer")  # micro-batches per optimizer step
    max_steps: int = param(check=positive, expect="a positive integer")  # optimizer steps of LoRA training
    eval_sample_ratio: float = param(check=in_open_closed(0, 1), expect="a number in (0, 1]")  # share of eval items
    eval_batch_size: int = param(check=positive, expect="a positive integer")  # upper bound on sequences per batch
    precision: str = param("32", check=one_of(*PRECISIONS), expect=f"one of {', '.join(PRECISIONS)}")
    devices: int = param(1, check=positive, expect="a positive integer")  # GPUs (or CPU processes) per stage
    strategy: str = param("auto", check=one_of(*STRATEGIES), expect=f"one of {', '.join(STRATEGIES)}")
    dataset: str | None = param(None, expect="a dataset name")  # overrides data.dataset
    data_path: str | None = param(None, expect="a local file or directory")  # overrides data.data_path
    lr: float | None = param(None, check=positive, expect="a positive number")  # overrides train.lr
    eval_max_samples: int | None = param(None, check=positive, expect="a positive integer")  # cap on eval items
    # overrides train.prompt_style and eval.prompt_style (small bases gain most where they are weakest: letter)
    prompt_style: str | None = param(None, check=one_of("cloze", "letter"), expect="cloze, letter or null")
    # overrides report.metric: the per-item score the paired tests compare
    report_metric: str | None = param(None, check=one_of("acc", "acc_norm"), expect="acc, acc_norm or null")


@dataclass(frozen=True, kw_only=True)
class Params:
    """All of params.yaml."""

    env: str = param(expect="the name of a block under envs")  # which machine profile is in force
    seed: int = param(0, check=non_negative, expect="a non-negative integer")  # one seed for every random choice
    data: DataParams = param(default_factory=DataParams)
    models: ModelsParams = param(default_factory=ModelsParams)
    train: TrainParams = param(default_factory=TrainParams)
    lora: LoraParams = param(default_factory=LoraParams)
    eval: EvalParams = param(default_factory=EvalParams)
    transfer: TransferParams = param(default_factory=TransferParams)
    report: ReportParams = param(default_factory=ReportParams)
    tracking: TrackingParams = param(default_factory=TrackingParams)
    toy: ToyParams = param(default_factory=ToyParams)
    envs: dict[str, EnvProfile] = param(default_factory=dict, expect="a mapping of environment names to blocks")

    @property
    def profile(self) -> EnvProfile:
        return self.envs[self.env]

    # Effective values: the environment block where it overrides, else the shared section.
    @property
    def dataset(self) -> str:
        return self.profile.dataset or self.data.dataset

    @property
    def data_path(self) -> str | None:
        return self.profile.data_path if self.profile.data_path is not None else self.data.data_path

    @property
    def prompt_style(self) -> str:
        """One style for training and evaluation (a LoRA trained on one format and scored on another measures
        the mismatch); the env block's overrides the shared sections', which must agree (see check_prompt_styles)."""
        return self.profile.prompt_style or self.eval.prompt_style

    @property
    def report_metric(self) -> str:
        return self.profile.report_metric or self.report.metric

    @property
    def lr(self) -> float:
        return self.profile.lr if self.profile.lr is not None else self.train.lr

    def replace(self, **changes: object) -> "Params":
        return dataclasses.replace(self, **changes)
