"""acc, acc_norm and their standard errors, as lm-eval 0.4.13 computes them.

acc: argmax of the loglikelihoods (ties go to the first choice); acc_norm: argmax of ll / len(choice text) in
characters (not bytes); stderr: sample standard deviation (n - 1) / sqrt(n).
"""

from __future__ import annotations

import math
from typing import Sequence


def argmax(values: Sequence[float]) -> int:
    best = 0
    for i, value in enumerate(values):
        if value > values[best]:
            best = i
    return best


def predict(lls: Sequence[float], choice_texts: Sequence[str]) -> tuple[int, int]:
    """(pred, pred_norm) for one item."""
    normed = [ll / len(text) if len(text) else ll for ll, text in zip(lls, choice_texts, strict=True)]
    return argmax(lls), argmax(normed)


def mean_stderr(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan")
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(variance / n)
