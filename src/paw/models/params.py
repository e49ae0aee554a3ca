"""The `models` section of params.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from paw.fields import one_of, param

DTYPES = ("float32", "bfloat16", "float16", "auto")


@dataclass(frozen=True)
class ModelsParams:
    dtype: str = param("float32", check=one_of(*DTYPES), expect=f"one of {', '.join(DTYPES)}")  # weights in memory
    trust_remote_code: bool = param(False)  # run a model repo's own Python code; leave off unless you trust it
