"""The seeded evaluation subset is stable, ordered, nested across ratios, and refuses bad settings."""

from __future__ import annotations

import pytest

from paw.data import sample_indices, sample_rows
from paw.errors import PawError


def test_same_subset_for_the_same_seed_ratio_and_count():
    rows = [f"r{i}" for i in range(200)]
    first = sample_rows(rows, 0.1, None, seed=3)
    assert first == sample_rows(list(rows), 0.1, None, seed=3)
    assert len(first) == 20
    assert first == sorted(first, key=rows.index)  # input order kept
    assert first != sample_rows(rows, 0.1, None, seed=4)


def test_smaller_ratio_is_a_subset_and_max_samples_caps():
    small = set(sample_indices(500, 0.05, seed=0))
    assert small <= set(sample_indices(500, 0.2, seed=0))
    assert len(sample_indices(500, 1.0, max_samples=7, seed=0)) == 7
    assert sample_indices(5, 1.0) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("ratio", [0, -0.1, 1.5, "half"])
def test_ratio_outside_range(ratio):
    with pytest.raises(PawError, match=r"sample_ratio .* expected a number in \(0, 1\]"):
        sample_indices(10, ratio)


def test_no_rows_after_sampling():
    with pytest.raises(PawError, match="no rows left after sampling"):
        sample_indices(10, 0.05)
