"""Lazy package exports: names resolve on first use, so importing a package stays cheap.

`paw.config` imports every section's params module, which imports its package: a package `__init__` that pulled
in torch, Lightning or matplotlib there would make reading params.yaml take seconds (or import in a cycle).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level `__getattr__` resolving each name in `exports` (name -> module) on first access."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name]), name)

    return __getattr__
