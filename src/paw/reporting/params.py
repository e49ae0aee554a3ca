"""The `report` section of params.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from paw.config.fields import in_open_closed, param, positive


@dataclass(frozen=True)
class ReportParams:
    bootstrap_samples: int = param(10000, check=positive, expect="a positive integer")  # paired bootstrap draws
    confidence: float = param(0.95, check=in_open_closed(0, 1), expect="a number in (0, 1)")
