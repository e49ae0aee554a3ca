"""`TransferSpec`: everything that decides a transfer's numbers and how it runs, in one frozen record checked once.

Built from params.yaml (`TransferSpec.from_params`, the carry stage and distill's `init`) or from `paw transfer`'s
flags (through `run_transfer`'s keywords); the engine then reads only the spec. A bad value fails here, before
any base is read or anything is written, with the message naming the params key (`paw transfer` renames it to the
flag that gave it). The bases, the adapter and where the SVD caches live are inputs, not part of the spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from paw.errors import PawError
from paw.models.loading import torch_dtype
from paw.transfer.carried import check_threshold
from paw.transfer.registry import TransferMethod, check_option_blocks, get_method

if TYPE_CHECKING:
    from paw.config import Params


@dataclass(frozen=True)
class TransferSpec:
    method: str = "aligned"  # a registered transfer method
    svd_rank: int = 64  # k of the bases' truncated SVDs (the LoRA rank is the adapter's own r)
    threshold: float = 1.0e-4  # minimum similarity a carried module needs to be kept (0..1)
    control: bool = True  # also write a norm-matched random control adapter
    options: Mapping[str, Any] = field(default_factory=dict)  # {method: its options}, as transfer.<method> blocks
    dtype: str = "float32"  # the bases' weights in memory
    trust_remote_code: bool = False
    seed: int = 0  # SVD sketches and the control's random factors

    def __post_init__(self) -> None:
        if not isinstance(self.svd_rank, int) or isinstance(self.svd_rank, bool) or self.svd_rank <= 0:
            raise PawError(f"transfer.svd_rank = {self.svd_rank} — expected a positive integer")
        check_threshold(self.threshold)
        torch_dtype(self.dtype)  # the loader's own check of the name
        object.__setattr__(self, "options", dict(self.options or {}))
        check_option_blocks(self.options)
        self.chosen()  # an unknown method or a bad option of the chosen one fails now

    def chosen(self) -> TransferMethod:
        """A fresh instance of the method with its options parsed (a method keeps one run's state on itself)."""
        return get_method(self.method, self.options.get(self.method))

    @classmethod
    def from_params(cls, params: "Params") -> "TransferSpec":
        t = params.transfer
        return cls(method=t.method, svd_rank=t.svd_rank, threshold=t.threshold, control=t.control,
                   options=t.options, dtype=params.models.dtype, trust_remote_code=params.models.trust_remote_code,
                   seed=params.seed)
