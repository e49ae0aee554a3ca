"""The `transfer` section of params.yaml. Each method's own options live under `transfer.<method>`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from paw.fields import in_closed, param, positive


@dataclass(frozen=True)
class TransferParams:
    # `transfer.<method>: {...}` blocks are gathered into `options` and checked by the method registry.
    EXTRA_MAPPINGS_FIELD: ClassVar[str] = "options"
    # `rank` was the SVD k's old name, easily read as the LoRA rank `lora.r`.
    RENAMED: ClassVar[dict[str, str]] = {"rank": "svd_rank"}

    method: str = param("aligned", expect="a registered transfer method")
    threshold: float = param(1.0e-4, check=in_closed(0, 1), expect="a number in [0, 1]")  # min similarity kept
    svd_rank: int = param(64, check=positive, expect="a positive integer")  # k of the bases' truncated SVDs
    control: bool = param(True)  # also write a norm-matched random control adapter
    options: dict[str, Any] = param(default_factory=dict, expect="a mapping of method options")
