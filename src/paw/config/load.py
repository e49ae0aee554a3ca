"""Load params.yaml (YAML 1.2, as DVC reads it: `1e-3` is a float) into `Params`, checking every key.

Each problem raises one `PawError` naming the key path and what was expected, for example
`params.yaml: eval.sample_ratio = 0 — expected a number in (0, 1]`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from paw.errors import PawError

if TYPE_CHECKING:
    from paw.config.schema import Params

DEFAULT_PATH = Path("params.yaml")


def read_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    if not path.is_file():
        raise PawError(f"{path}: params file not found")
    try:
        return YAML(typ="safe", pure=True).load(path.read_text())
    except YAMLError as exc:
        raise PawError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None


def load_params(path: str | Path = DEFAULT_PATH, overrides: Mapping[str, Any] | None = None) -> "Params":
    """Read and check params.yaml; `overrides` maps dotted keys to values (as `dvc exp run -S` would set them)."""
    path = Path(path)
    raw = read_yaml(path)
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value)
    return parse_params(raw, source=path.name)


def parse_params(raw: Any, source: str = "params.yaml") -> "Params":
    from paw.config.schema import Params

    params = _build(Params, raw, path="", source=source)
    if params.env not in params.envs:
        known = ", ".join(sorted(params.envs)) or "none"
        raise PawError(f"{source}: env = {params.env!r} — expected the name of a block under envs ({known})")
    return params


def parse_options(cls: type, raw: Any, path: str, owner: str, source: str = "params.yaml") -> Any:
    """One options block (a frozen dataclass such as a transfer method's `Options`) read from `raw` at `path`,
    by the same checks as every params section; an unknown key is named as "not a known option of <owner>"."""
    if not isinstance(raw, Mapping):
        raise _fail(source, path, raw, "a mapping of options")
    return _build(cls, raw, path=f"{path}.", source=source, unknown=f"option of {owner}")


def _set_dotted(raw: dict, dotted: str, value: Any) -> None:
    node = raw
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def _fail(source: str, path: str, value: Any, expect: str) -> PawError:
    shown = "(missing)" if value is dataclasses.MISSING else repr(value) if isinstance(value, str) else value
    return PawError(f"{source}: {path} = {shown} — expected {expect}")


def _build(cls: type, raw: Any, path: str, source: str, unknown: str = "key") -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise _fail(source, path.rstrip(".") or "(top level)", raw, f"a mapping of {cls.__name__} keys")
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
                raise _fail(source, key, dataclasses.MISSING, field.metadata.get("expect") or "a value")
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
        return _build(hint, value, f"{key}.", source)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _fail(source, key, value, expect)
        return {str(k): _convert(args[1], v, f"{key}.{k}", {}, source) for k, v in value.items()}
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise _fail(source, key, value, expect)
        items = tuple(_convert(args[0], v, f"{key}[{i}]", {}, source) for i, v in enumerate(value))
        converted: Any = items
    elif hint is Any:
        converted = value
    else:
        converted = _scalar(hint, value, key, expect, source)
    check = meta.get("check")
    if check is not None and not check(converted):
        raise _fail(source, key, value, expect)
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
        raise _fail(source, key, value, expect)
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
