"""Typed, checked dataclasses from plain mappings — the rule every params section and every method's options
block is read by. Each field carries its own check (`param(check=…, expect=…)`), so an error names the key path
and what was expected: `params.yaml: eval.sample_ratio = 0 — expected a number in (0, 1]`.

A leaf module: the sections beside the engines that read them (`paw/<engine>/params.py`) and the config loader
both import it, and it imports nothing of paw but the error type.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from typing import Any, Callable, Mapping

from paw.errors import PawError

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


def parse_options(cls: type, raw: Any, path: str, owner: str, source: str = "params.yaml") -> Any:
    """One options block (a frozen dataclass such as a transfer method's `Options`) read from `raw` at `path`,
    by the same checks as every params section; an unknown key is named as "not a known option of <owner>"."""
    if not isinstance(raw, Mapping):
        raise fail(source, path, raw, "a mapping of options")
    return build(cls, raw, path=f"{path}.", source=source, unknown=f"option of {owner}")


def fail(source: str, path: str, value: Any, expect: str) -> PawError:
    shown = "(missing)" if value is dataclasses.MISSING else repr(value) if isinstance(value, str) else value
    return PawError(f"{source}: {path} = {shown} — expected {expect}")


def renamed(cls: type, raw: Mapping[str, Any], path: str, source: str) -> Mapping[str, Any]:
    """Keys a section renamed (`RENAMED = {old: new}`) are read under their new name for one release, with a
    deprecation line on stderr; both names at once is an error (which one is meant?)."""
    moved = {old: new for old, new in getattr(cls, "RENAMED", {}).items() if old in raw}
    for old, new in moved.items():
        if new in raw:
            raise PawError(f"{source}: {path}{old} and {path}{new} are both set — {path}{old} is the old name of "
                           f"{path}{new}: keep only {path}{new}")
        print(f"paw: warning: {source}: {path}{old} is deprecated — rename it {path}{new} (read as {path}{new} "
              "for now)", file=sys.stderr)
    return {moved.get(key, key): value for key, value in raw.items()}


def build(cls: type, raw: Any, path: str, source: str, unknown: str = "key") -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise fail(source, path.rstrip(".") or "(top level)", raw, f"a mapping of {cls.__name__} keys")
    raw = renamed(cls, raw, path, source)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    # A section may gather its extra mapping-valued keys into one field (e.g. `transfer.<method>` option blocks,
    # which the transfer registry checks against each method's own options with `parse_options`).
    extra_field = getattr(cls, "EXTRA_MAPPINGS_FIELD", None)
    extras = {k: v for k, v in raw.items() if extra_field and k not in fields and isinstance(v, Mapping)}
    if extras:
        raw = {k: v for k, v in raw.items() if k not in extras} | {extra_field: extras}
    strangers = sorted(set(raw) - set(fields))
    if strangers:
        expected = f"one of {', '.join(sorted(fields))}" if fields else "no keys here"
        raise PawError(f"{source}: {path}{strangers[0]} is not a known {unknown} — expected {expected}")
    values = {}
    for name, field in fields.items():
        key = f"{path}{name}"
        if name not in raw:
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                raise fail(source, key, dataclasses.MISSING, field.metadata.get("expect") or "a value")
            continue
        values[name] = _convert(hints[name], raw[name], key, field.metadata, source)
    return cls(**values)


def _convert(hint: Any, value: Any, key: str, meta: Mapping[str, Any], source: str) -> Any:
    expect = meta.get("expect") or _describe(hint)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, key, meta, source)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, f"{key}.", source)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise fail(source, key, value, expect)
        return {str(k): _convert(args[1], v, f"{key}.{k}", {}, source) for k, v in value.items()}
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise fail(source, key, value, expect)
        items = tuple(_convert(args[0], v, f"{key}[{i}]", {}, source) for i, v in enumerate(value))
        converted: Any = items
    elif hint is Any:
        converted = value
    else:
        converted = _scalar(hint, value, key, expect, source)
    check = meta.get("check")
    if check is not None and not check(converted):
        raise fail(source, key, value, expect)
    return converted


def _scalar(hint: Any, value: Any, key: str, expect: str, source: str) -> Any:
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif hint is str:
        ok = isinstance(value, str)
    else:
        ok = isinstance(value, hint)
    if not ok:
        raise fail(source, key, value, expect)
    return value


def _describe(hint: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    origin = typing.get_origin(hint)
    if origin in (list, tuple):
        return "a list"
    if origin is dict:
        return "a mapping"
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return f"{_describe(inner[0])} or null"
    return names.get(hint, getattr(hint, "__name__", str(hint)))
