"""`EvalSpec`: everything that decides an evaluation's numbers and how it runs, in one frozen record checked once.

Built from params.yaml (`EvalSpec.from_params`, the pipeline's stages) or from `paw eval`'s flags; the engine then
reads only the spec. A bad value fails here, before any model is loaded or anything is written, with the message
naming the field (`paw eval` renames it to the flag that gave it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paw.data.base import STYLES
from paw.errors import PawError
from paw.models.loading import torch_dtype

if TYPE_CHECKING:
    from paw.config import Params


@dataclass(frozen=True)
class EvalSpec:
    task: str  # a registered dataset name
    data_path: str | Path | None = None  # local rows in the hub schema; None = the hub id
    split: str | None = None  # None = the split lm-eval uses for the task
    prompt_style: str = "cloze"  # cloze (lm-eval's) | letter (PAW's)
    sample_ratio: float = 1.0  # share of the split's items, a seeded subset
    max_samples: int | None = None  # cap on items after the ratio
    batch_size: int = 8  # sequences per batch (a token budget of batch_size × 512)
    dtype: str = "float32"  # weights in memory
    seed: int = 0  # the subset's seed
    devices: int = 1  # processes the items are sharded over
    trust_remote_code: bool = False
    share_context: bool = True  # score each question's context once for all its choices (same numbers, faster)
    progress: bool = True  # an items bar on stderr

    def __post_init__(self) -> None:
        for name in ("batch_size", "devices"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PawError(f"{name} = {value!r} — expected a positive integer")
        if self.prompt_style not in STYLES:
            raise PawError(f"prompt_style = {self.prompt_style!r} — expected cloze or letter")
        torch_dtype(self.dtype)  # the loader's own check of the name

    @classmethod
    def from_params(cls, params: "Params") -> "EvalSpec":
        """The pipeline's evaluation: the selected env's task, data, sampling, batch size and devices."""
        profile = params.profile
        return cls(task=params.dataset, data_path=params.data_path, split=params.eval.split,
                   prompt_style=params.prompt_style, sample_ratio=profile.eval_sample_ratio,
                   max_samples=profile.eval_max_samples, batch_size=profile.eval_batch_size,
                   dtype=params.models.dtype, seed=params.seed, devices=profile.devices,
                   trust_remote_code=params.models.trust_remote_code)
