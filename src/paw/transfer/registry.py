"""The registry of transfer methods: each method is one module under `paw.transfer.methods` that subclasses
`TransferMethod` and decorates itself with `@register`. Adding a method touches that one file (and its test).

A method decides, per (source module, target module) pair, how the source LoRA's update directions are carried
into the target's spaces; the engine (`paw.transfer.engine`) does the rest: similarity, threshold, re-factoring,
diagnostics, control adapter, atomic output.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import typing
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

from paw.errors import PawError

if TYPE_CHECKING:
    import torch

    from paw.transfer.context import ModulePair, TransferContext

# A linear map on column vectors, applied to a matrix whose columns are directions in the source space.
Carry = Callable[["torch.Tensor"], "torch.Tensor"]

_METHODS: dict[str, type["TransferMethod"]] = {}


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


def register(cls: type[TransferMethod]) -> type[TransferMethod]:
    if not issubclass(cls, TransferMethod):
        raise TypeError(f"{cls!r} is not a TransferMethod")
    if cls.name in _METHODS and _METHODS[cls.name] is not cls:
        raise ValueError(f"transfer method {cls.name!r} is registered twice")
    _METHODS[cls.name] = cls
    return cls


def _load_all() -> None:
    import paw.transfer.methods as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")


def known_methods() -> list[str]:
    _load_all()
    return sorted(_METHODS)


def get_method(name: str, raw_options: Mapping[str, Any] | None = None) -> TransferMethod:
    """The method named `name` with its options checked (keys of `transfer.<name>` in params.yaml)."""
    _load_all()
    if name not in _METHODS:
        raise PawError(f"transfer.method = {name!r} — expected one of {', '.join(sorted(_METHODS))}")
    cls = _METHODS[name]
    return cls(parse_options(name, cls.Options, raw_options or {}))


def check_option_blocks(all_options: Mapping[str, Any]) -> None:
    """Every `transfer.<block>` mapping must name a known method and hold only its options."""
    _load_all()
    for block, raw in all_options.items():
        if block not in _METHODS:
            raise PawError(
                f"params.yaml: transfer.{block} is not a known key — option blocks are named after a method "
                f"({', '.join(sorted(_METHODS))})"
            )
        parse_options(block, _METHODS[block].Options, raw)


def parse_options(method: str, options_cls: type, raw: Mapping[str, Any]) -> Any:
    """Build the method's options dataclass; errors name `transfer.<method>.<key>` and what was expected."""
    if not isinstance(raw, Mapping):
        raise PawError(f"params.yaml: transfer.{method} = {raw!r} — expected a mapping of options")
    fields = {f.name: f for f in dataclasses.fields(options_cls)}
    hints = typing.get_type_hints(options_cls)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"params.yaml: transfer.{method}.{key}"
        if key not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise PawError(f"{where} is not a known option of {method} — expected one of: {known}")
        field = fields[key]
        expect = field.metadata.get("expect") or f"a {getattr(hints[key], '__name__', hints[key])}"
        value = _coerce(hints[key], value)
        if value is _BAD:
            raise PawError(f"{where} = {raw[key]!r} — expected {expect}")
        check = field.metadata.get("check")
        if check is not None and value is not None and not check(value):
            raise PawError(f"{where} = {raw[key]!r} — expected {expect}")
        values[key] = value
    return options_cls(**values)


_BAD = object()


def _coerce(hint: Any, value: Any) -> Any:
    args = typing.get_args(hint)
    if type(None) in args:
        if value is None:
            return None
        hint = next(a for a in args if a is not type(None))
    if hint is bool:
        return value if isinstance(value, bool) else _BAD
    if hint is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _BAD
    if hint is float:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _BAD
    if hint is str:
        return value if isinstance(value, str) else _BAD
    return value
