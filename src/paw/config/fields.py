"""Field helpers: each params field carries its own check, so the error can name the key and what was expected."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

Check = Callable[[Any], bool]


def param(default: Any = dataclasses.MISSING, *, check: Check | None = None, expect: str = "", **kwargs: Any) -> Any:
    """A dataclass field with an optional value check and the phrase shown when the check fails."""
    metadata = {"check": check, "expect": expect}
    if default is dataclasses.MISSING and "default_factory" not in kwargs:
        return dataclasses.field(metadata=metadata, **kwargs)
    if "default_factory" in kwargs:
        return dataclasses.field(metadata=metadata, **kwargs)
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


def in_open_closed(low: float, high: float) -> Check:
    return lambda v: low < v <= high


def in_closed(low: float, high: float) -> Check:
    return lambda v: low <= v <= high


def positive(v: float) -> bool:
    return v > 0


def non_negative(v: float) -> bool:
    return v >= 0


def one_of(*choices: Any) -> Check:
    return lambda v: v in choices
