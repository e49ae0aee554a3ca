"""The seeded evaluation subset: the same items for every model evaluated on a dataset, so results pair up.

The choice depends only on (seed, sample_ratio, max_samples, number of rows): one seeded permutation of the row
indices, its first k taken, then sorted back into input order. A smaller ratio picks a subset of a larger one.
"""

from __future__ import annotations

import math
import random
from typing import Sequence, TypeVar

from paw.errors import PawError

T = TypeVar("T")


def sample_indices(n_rows: int, sample_ratio: float = 1.0, max_samples: int | None = None, seed: int = 0) -> list[int]:
    """Sorted indices of the selected rows; PawError for a ratio outside (0, 1] or an empty selection."""
    if isinstance(sample_ratio, bool) or not isinstance(sample_ratio, (int, float)) or not 0 < sample_ratio <= 1:
        raise PawError(f"sample_ratio = {sample_ratio!r} — expected a number in (0, 1]")
    bad_cap = isinstance(max_samples, bool) or not isinstance(max_samples, int) or max_samples < 1
    if max_samples is not None and bad_cap:
        raise PawError(f"max_samples = {max_samples!r} — expected a positive integer or null")
    # The small epsilon keeps e.g. 0.29 * 100 (28.999…) from losing an item to float rounding.
    k = math.floor(sample_ratio * n_rows + 1e-9)
    if max_samples is not None:
        k = min(k, max_samples)
    if k < 1:
        raise PawError(
            f"no rows left after sampling: {n_rows} rows × sample_ratio {sample_ratio} — "
            "expected a larger sample_ratio or more rows"
        )
    if k == n_rows:
        return list(range(n_rows))
    order = list(range(n_rows))
    random.Random(seed).shuffle(order)
    return sorted(order[:k])


def sample_rows(rows: Sequence[T], sample_ratio: float = 1.0, max_samples: int | None = None, seed: int = 0) -> list[T]:
    """The selected rows, in input order (see `sample_indices`)."""
    return [rows[i] for i in sample_indices(len(rows), sample_ratio, max_samples, seed)]
