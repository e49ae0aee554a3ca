"""The registry of transfer methods: each method is one module under `paw.transfer.methods` that subclasses
`TransferMethod` and decorates itself with `@register` (a `paw.registry.Registry`; every module there is imported on
the first lookup). Adding a method touches that one file (and its test). Its `Options` dataclass is read from
`transfer.<name>` by the config loader's own checks (`paw.config.load.parse_options`).

A method decides, per (source module, target module) pair, how the source LoRA's update directions are carried
into the target's spaces; the engine (`paw.transfer.engine`) does the rest: similarity, threshold, re-factoring,
diagnostics, control adapter, atomic output.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

from paw.fields import parse_options
from paw.errors import PawError
from paw.registry import Registry

if TYPE_CHECKING:
    import torch

    from paw.transfer.context import ModulePair, TransferContext

# A linear map on column vectors, applied to a matrix whose columns are directions in the source space.
Carry = Callable[["torch.Tensor"], "torch.Tensor"]


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """Methods without options."""


@dataclasses.dataclass
class ModulePlan:
    """How one module's update is carried: ΔWt = left(ΔWs) composed with right on the input side.

    `left` maps output-space directions (columns of B), `right` maps input-space directions (rows of A, as columns).
    `project` then keeps only the part inside the target weight's top-k subspaces (LoRA-X). `compare_left/right`
    are the maps used for the similarity score (default: the carry maps); None on both = no common space."""

    left: Carry
    right: Carry
    project: bool = False
    compare_left: Carry | None = None
    compare_right: Carry | None = None
    compare_sides: tuple[str, ...] = ("left", "right")  # sides whose carry is independent of the target's SVD
    no_common_space: bool = False
    rescale: str = "none"  # none | source | relative: optional norm rescale of the result
    note: str = ""


class SkipModule(Exception):
    """Raised by `plan` when a module cannot be carried; the engine records it as skipped with this reason."""


class TransferMethod:
    """Base class. `prepare` fits whatever the method needs once (maps, activations); `plan` is called per module."""

    name: ClassVar[str]
    Options: ClassVar[type] = NoOptions
    summary: ClassVar[str] = ""
    # A method that trains a LoRA on the target itself (distill) sets trains_target and implements train_target;
    # the report marks its kind apart from the training-free methods.
    trains_target: ClassVar[bool] = False
    kind: ClassVar[str] = "training-free"

    def __init__(self, options: Any) -> None:
        self.options = options

    def layer_map_kind(self) -> str:
        """'depth' (relative depth; the identity when layer counts match) or 'cka' (activation similarity)."""
        return getattr(self.options, "layer_map", "depth")

    def check_pair(self, ctx: "TransferContext") -> None:
        """Raise PawError when this method cannot handle the model pair at all."""

    def prepare(self, ctx: "TransferContext", pairs: list["ModulePair"]) -> dict[str, Any]:
        """Fit shared state once for these module pairs; returns diagnostics to record (JSON-serialisable)."""
        return {}

    def plan(self, ctx: "TransferContext", pair: "ModulePair") -> ModulePlan:
        raise NotImplementedError

    def train_target(self, params: Any, source_model_dir, source_adapter_dir, target_model_dir, carried_dir,
                     source_svd_dir=None, target_svd_dir=None) -> Any:
        """For trains_target methods: the carry stage's whole work from params; returns a `Carried`."""
        raise NotImplementedError


METHODS: Registry[TransferMethod] = Registry("transfer method", TransferMethod, key="transfer.method",
                                             package="paw.transfer.methods")
register = METHODS.register


def known_methods() -> list[str]:
    return METHODS.names()


def get_method(name: str, raw_options: Mapping[str, Any] | None = None) -> TransferMethod:
    """The method named `name` with its options checked (keys of `transfer.<name>` in params.yaml)."""
    cls = METHODS.get(name)
    return cls(parse_options(cls.Options, raw_options or {}, f"transfer.{name}", owner=name))


def check_option_blocks(all_options: Mapping[str, Any]) -> None:
    """Every `transfer.<block>` mapping must name a known method and hold only its options."""
    for block, raw in all_options.items():
        if block not in METHODS:
            raise PawError(
                f"params.yaml: transfer.{block} is not a known key — option blocks are named after a method "
                f"({', '.join(known_methods())})"
            )
        parse_options(METHODS.get(block).Options, raw, f"transfer.{block}", owner=block)
