"""Option blocks shared by the methods that read probe text (`transfer.<method>.probe_*`)."""

from __future__ import annotations

from dataclasses import dataclass

from paw.fields import non_negative, one_of, param, positive
from paw.transfer.methods.common import LAYER_MAPS


@dataclass(frozen=True)
class ProbeOptions:
    probe_file: str | None = param(None, expect="a text file path (one probe text per line) or null")
    probe_size: int = param(64, check=positive, expect="a positive integer")  # probe texts read
    max_length: int = param(128, check=positive, expect="a positive integer")  # tokens per probe text
    layer_map: str = param("depth", check=one_of(*LAYER_MAPS), expect=f"one of {', '.join(LAYER_MAPS)}")
    ridge: float = param(1.0e-3, check=non_negative, expect="a non-negative number")  # relative ridge of the fits
