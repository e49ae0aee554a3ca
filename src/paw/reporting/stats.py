"""Paired statistics for comparing models evaluated on the same items.

On ~1,000 multiple-choice items one standard error of an accuracy is over a point, so a report must test
differences on the *same* items: a paired bootstrap interval for the difference (and for ratios such as recovery)
and an exact McNemar test on the discordant pairs.

The bootstrap draws, for each replicate, how many times each item is picked (a multinomial over the items, which is
exactly what resampling n items with replacement does). Items with the same correctness pattern across models are
interchangeable, so the draw is made over the distinct patterns — at most 2^k for k binary columns — which keeps
10,000 replicates cheap for any n.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from paw.errors import PawError


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile bootstrap interval at `confidence`."""

    estimate: float
    low: float
    high: float
    confidence: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class PairedComparison:
    """Model A against model B on the same items: mean difference A − B, its interval, and McNemar's exact p."""

    difference: Interval
    a_only: int  # items A got right and B got wrong
    b_only: int  # items B got right and A got wrong
    p_value: float
    n: int


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of the discordant pairs against p = 1/2.

    With no discordant pairs the two models cannot be told apart, and p = 1.
    """
    from scipy.stats import binomtest

    if a_only < 0 or b_only < 0:
        raise ValueError("discordant counts must be non-negative")
    discordant = a_only + b_only
    if discordant == 0:
        return 1.0
    return float(binomtest(min(a_only, b_only), discordant, 0.5, alternative="two-sided").pvalue)


def bootstrap_means(columns: np.ndarray, samples: int, seed: int, chunk: int = 2000) -> np.ndarray:
    """Column means of `samples` paired bootstrap replicates of the rows of `columns` (n items × k models).

    Returns an array (samples × k). Rows are resampled together, so the pairing of models on an item is kept.
    """
    columns = np.asarray(columns, dtype=float)
    if columns.ndim != 2 or columns.shape[0] == 0:
        raise PawError(f"bootstrap: expected a non-empty items × models table, got shape {columns.shape}")
    if samples < 1:
        raise PawError(f"bootstrap: samples = {samples} — expected a positive integer")
    n = columns.shape[0]
    patterns, counts = np.unique(columns, axis=0, return_counts=True)
    rng = np.random.default_rng(seed)
    out = np.empty((samples, columns.shape[1]))
    for start in range(0, samples, chunk):
        stop = min(start + chunk, samples)
        weights = rng.multinomial(n, counts / n, size=stop - start)
        out[start:stop] = weights @ patterns / n
    return out


def percentile_interval(estimate: float, draws: np.ndarray, confidence: float) -> Interval:
    """Percentile interval of the finite bootstrap draws (a ratio is undefined where its denominator drew 0)."""
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return Interval(estimate, float("nan"), float("nan"), confidence)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Interval(float(estimate), float(low), float(high), confidence)


def bootstrap_statistic(
    columns: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    samples: int,
    seed: int,
    confidence: float,
) -> Interval:
    """Interval of `statistic(means)` where `means` is (replicates × k); the estimate uses the observed means."""
    columns = np.asarray(columns, dtype=float)
    observed = statistic(columns.mean(axis=0)[None, :])[0]
    draws = statistic(bootstrap_means(columns, samples, seed))
    return percentile_interval(float(observed), draws, confidence)


def compare_paired(
    a_correct: np.ndarray, b_correct: np.ndarray, samples: int, seed: int, confidence: float
) -> PairedComparison:
    """A − B in accuracy on the same items, with a paired bootstrap interval and McNemar's exact p."""
    a = np.asarray(a_correct, dtype=bool)
    b = np.asarray(b_correct, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise PawError(f"paired comparison: expected two equal-length item vectors, got {a.shape} and {b.shape}")
    columns = np.stack([a, b], axis=1)
    difference = bootstrap_statistic(columns, lambda m: m[:, 0] - m[:, 1], samples, seed, confidence)
    a_only = int(np.sum(a & ~b))
    b_only = int(np.sum(~a & b))
    return PairedComparison(difference, a_only, b_only, mcnemar_exact(a_only, b_only), int(a.size))


def recovery(
    transferred: np.ndarray,
    target_base: np.ndarray,
    target_lora: np.ndarray,
    samples: int,
    seed: int,
    confidence: float,
) -> Interval:
    """(transferred − base) / (LoRA − base): the share of the target LoRA's gain the transfer carried over.

    All three are resampled together on the same items. Replicates whose denominator is 0 are undefined and left
    out of the interval; the estimate is NaN when the observed denominator is 0.
    """
    columns = np.stack([np.asarray(x, dtype=float) for x in (transferred, target_base, target_lora)], axis=1)

    def ratio(means: np.ndarray) -> np.ndarray:
        gain = means[:, 2] - means[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(gain != 0, (means[:, 0] - means[:, 1]) / np.where(gain != 0, gain, 1), np.nan)

    return bootstrap_statistic(columns, ratio, samples, seed, confidence)
