"""The `report` section of params.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from paw.fields import in_open_closed, one_of, param, positive


@dataclass(frozen=True)
class ReportParams:
    bootstrap_samples: int = param(10000, check=positive, expect="a positive integer")  # paired bootstrap draws
    confidence: float = param(0.95, check=in_open_closed(0, 1), expect="a number in (0, 1)")
    # Per-item score the paired tests compare; tasks without acc_norm (winogrande, boolq) fall back to acc.
    metric: str = param("acc", check=one_of("acc", "acc_norm"), expect="acc or acc_norm")
