"""Paired statistics against known answers: exact McNemar by hand, bootstrap against theory and plain resampling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from paw.evaluation.metrics import mean_stderr

from paw.errors import PawError
from paw.reporting import stats


def test_mcnemar_matches_the_worked_binomial_example():
    # 2 vs 8 discordant pairs: p = 2 · P(X ≤ 2), X ~ Bin(10, 1/2) = 2 · (1 + 10 + 45) / 1024.
    assert stats.mcnemar_exact(2, 8) == pytest.approx(112 / 1024, rel=1e-12)
    assert stats.mcnemar_exact(8, 2) == pytest.approx(112 / 1024, rel=1e-12)
    # 0 vs 6: p = 2 / 64; balanced counts give p = 1; no discordant pairs gives p = 1.
    assert stats.mcnemar_exact(0, 6) == pytest.approx(2 / 64, rel=1e-12)
    assert stats.mcnemar_exact(5, 5) == pytest.approx(1.0)
    assert stats.mcnemar_exact(0, 0) == 1.0


def test_mcnemar_ignores_concordant_items_and_counts_discordant_ones():
    a = np.array([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0], dtype=bool)
    b = np.array([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
    result = stats.compare_paired(a, b, samples=2000, seed=0, confidence=0.95)
    assert (result.a_only, result.b_only, result.n) == (7, 1, 12)
    # 1 vs 7 discordant: p = 2 · (1 + 8) / 256; accuracies 9/12 and 3/12.
    assert result.p_value == pytest.approx(18 / 256, rel=1e-12)
    assert result.difference.estimate == pytest.approx((9 - 3) / 12)


def test_stderr_is_the_sample_standard_deviation_over_root_n():
    values = np.array([1, 0, 0, 1, 1, 1, 0, 1], dtype=float)
    p = values.mean()
    expected = math.sqrt(p * (1 - p) * 8 / 7) / math.sqrt(8)
    assert mean_stderr(values)[1] == pytest.approx(expected, rel=1e-12)


def test_bootstrap_is_seeded_and_the_seed_matters():
    rng = np.random.default_rng(0)
    a, b = rng.random(300) < 0.6, rng.random(300) < 0.5
    first = stats.compare_paired(a, b, 4000, seed=7, confidence=0.95).difference
    again = stats.compare_paired(a, b, 4000, seed=7, confidence=0.95).difference
    other = stats.compare_paired(a, b, 4000, seed=8, confidence=0.95).difference
    assert first == again
    assert (first.low, first.high) != (other.low, other.high)
    assert first.low < first.estimate < first.high


def test_bootstrap_spread_matches_theory_and_plain_index_resampling():
    """The pattern-multinomial draw must behave like resampling items with replacement."""
    rng = np.random.default_rng(1)
    n = 400
    a, b = rng.random(n) < 0.55, rng.random(n) < 0.45
    d = a.astype(float) - b
    means = stats.bootstrap_means(np.stack([a, b], axis=1), samples=20000, seed=3)
    diffs = means[:, 0] - means[:, 1]
    # Theory: the bootstrap variance of a mean is the plug-in variance over n.
    assert diffs.std() == pytest.approx(d.std(ddof=0) / math.sqrt(n), rel=0.04)
    assert diffs.mean() == pytest.approx(d.mean(), abs=0.002)
    naive = np.array([d[rng.integers(0, n, n)].mean() for _ in range(4000)])
    ours = stats.compare_paired(a, b, 20000, seed=3, confidence=0.95).difference
    assert ours.low == pytest.approx(np.percentile(naive, 2.5), abs=0.01)
    assert ours.high == pytest.approx(np.percentile(naive, 97.5), abs=0.01)


def test_pairing_narrows_the_interval_of_correlated_models():
    """Two models that agree on most items: the paired interval is far narrower than unpaired errors suggest."""
    rng = np.random.default_rng(2)
    a = rng.random(500) < 0.5
    b = a.copy()
    b[:20] = ~b[:20]
    paired = stats.compare_paired(a, b, 5000, seed=0, confidence=0.95).difference
    unpaired_half_width = 1.96 * math.hypot(mean_stderr(a)[1], mean_stderr(b)[1])
    assert (paired.high - paired.low) / 2 < unpaired_half_width / 3


def test_identical_models_give_a_zero_interval_and_p_one():
    a = np.arange(50) % 3 == 0
    result = stats.compare_paired(a, a.copy(), 1000, seed=0, confidence=0.95)
    assert (result.difference.estimate, result.difference.low, result.difference.high) == (0, 0, 0)
    assert result.p_value == 1.0
    assert not result.difference.excludes_zero()


def test_recovery_estimate_and_interval():
    n = 200
    base = np.arange(n) < 60  # 0.30
    lora = np.arange(n) < 140  # 0.70
    transferred = np.arange(n) < 100  # 0.50 → recovery exactly one half
    interval = stats.recovery(transferred, base, lora, 5000, seed=0, confidence=0.9)
    assert interval.estimate == pytest.approx(0.5)
    assert interval.low < 0.5 < interval.high
    assert 0.3 < interval.low and interval.high < 0.7
    assert interval.confidence == 0.9


def test_recovery_is_undefined_when_the_lora_equals_the_base():
    base = np.arange(100) < 40
    transferred = np.arange(100) < 50
    interval = stats.recovery(transferred, base, base.copy(), 500, seed=0, confidence=0.95)
    assert math.isnan(interval.estimate) and math.isnan(interval.low) and math.isnan(interval.high)


def test_bad_shapes_are_reported():
    with pytest.raises(PawError, match="equal-length"):
        stats.compare_paired(np.ones(3, bool), np.ones(4, bool), 10, 0, 0.95)
    with pytest.raises(PawError, match="samples = 0"):
        stats.bootstrap_means(np.ones((3, 2)), samples=0, seed=0)
