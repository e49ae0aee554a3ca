"""Load params.yaml (YAML 1.2, as DVC reads it: `1e-3` is a float) into `Params`, checking every key.

Each problem raises one `PawError` naming the key path and what was expected, for example
`params.yaml: eval.sample_ratio = 0 — expected a number in (0, 1]`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from paw.config.schema import Params
from paw.errors import PawError
from paw.fields import build

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
    params = build(Params, raw, path="", source=source)
    if params.env not in params.envs:
        known = ", ".join(sorted(params.envs)) or "none"
        raise PawError(f"{source}: env = {params.env!r} — expected the name of a block under envs ({known})")
    return params


def _set_dotted(raw: dict, dotted: str, value: Any) -> None:
    node = raw
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
