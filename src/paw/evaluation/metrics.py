"""Standard errors of acc and acc_norm, as lm-eval 0.4.13 computes them: the sample standard deviation (n - 1)
over sqrt(n). The choices themselves (argmax, ties to the first) are paw.scoring's `predict`.
"""

from __future__ import annotations

import math
from typing import Sequence


def mean_stderr(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan")
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(variance / n)
