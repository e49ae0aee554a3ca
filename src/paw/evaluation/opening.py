"""The opening that every request shares (`Question:` on ARC), computed once for the run instead of once per row.

When all prompts open alike, every packed row starts with the same few tokens and computes them again. Here the
first batch keeps its keys and values: a row's first request lays its whole path first, so any row's first tokens
are the opening, at positions 0, 1, …. Later rows drop those tokens and read the opening's keys and values as a
past that each of their tokens attends to; their own tokens keep their position ids, so every scored position sees
what it would see in a row of its own. Rows that start with a layout reference keep their opening and see no
past: the layout check then compares the probe, read through the past, with requests read as rows of their own,
and so covers this path too (see paw.evaluation.layout_probe). The values are those of the full rows up to the
rounding of products over differently composed batches.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from paw.packing import Request, Row, additive_mask, sliding_window

if TYPE_CHECKING:
    import torch

KeysValues = list[tuple["torch.Tensor", "torch.Tensor"]]  # per layer: [1 × kv heads × opening × head dim] each


def shared_opening(requests: list[Request]) -> int:
    """How many first tokens all requests share, stopping before any scored position (a scored position needs its
    own output, which a past does not give)."""
    if not requests:
        return 0
    limit = min(len(request.input_ids) - request.n_scored for request in requests)
    first, size = requests[0].input_ids, 0
    while size < limit and all(request.input_ids[size] == first[size] for request in requests):
        size += 1
    return size


def without_opening(row: Row) -> Row:
    """`row` minus its first `row.opening` tokens, the chain every request of the row starts with. The tokens that
    followed the chain become roots and keep their position ids."""
    size = row.opening
    chain = row.parents[:size] == list(range(-1, size - 1)) and row.positions[:size] == list(range(size))
    if not chain or any(parent < size - 1 for parent in row.parents[size:]) or \
            any(index < size for index, _, _ in row.scored):
        raise ValueError(f"the row does not start with a shared opening of {size} tokens")
    return replace(row, tokens=row.tokens[size:], positions=row.positions[size:],
                   parents=[parent - size if parent >= size else -1 for parent in row.parents[size:]],
                   scored=[(index - size, target, number) for index, target, number in row.scored])


def kept_positions(config) -> int | None:
    """How many positions of one forward a cache keeps in every layer: a sliding-window layer keeps its window's
    last `sliding_window - 1`; None when no layer slides."""
    window = sliding_window(config)
    return window - 1 if window else None


def with_capture_first(first: list[list[Row]], rest: list[list[Row]], holds_probe, kept: int | None):
    """(the check's batches, the rest, whether the first of them keeps the opening). The batch that keeps it must
    run before the probe's, whose row then reads the opening through the past and so puts that path under the
    check, and must be no wider than a cache keeps: a batch of the check without the probe if one fits, else the
    narrowest fitting batch of the rest, else none."""
    def width(batch: list[Row]) -> int:
        return max(len(row) for row in batch)

    def fits(batch: list[Row]) -> bool:
        return kept is None or width(batch) <= kept

    before = [batch for batch in first if not holds_probe(batch)]
    with_probe = [batch for batch in first if holds_probe(batch)]
    if before and fits(before[0]):
        return before + with_probe, rest, True
    fitting = [batch for batch in rest if fits(batch)]
    if not fitting:
        return first, rest, False
    chosen = min(fitting, key=width)
    return [chosen, *before, *with_probe], [batch for batch in rest if batch is not chosen], True


def opening_states(cache, size: int, length: int) -> KeysValues | None:
    """The opening's keys and values in every layer, from the cache of a batch of rows `length` tokens wide that
    all start with it. None when a layer kept fewer positions than it was given (a sliding window shorter than
    the batch), or the cache has no per-layer states."""
    states = []
    for layer in getattr(cache, "layers", None) or []:
        keys, values = getattr(layer, "keys", None), getattr(layer, "values", None)
        if keys is None or values is None or keys.dim() != 4 or keys.shape[-2] != length:
            return None
        states.append((keys[:1, :, :size].clone(), values[:1, :, :size].clone()))
    return states or None


def past_of(states: KeysValues, rows: int, config) -> Any:
    """A fresh cache holding the opening for `rows` rows (the model appends each batch's own keys to it)."""
    from transformers import DynamicCache

    return DynamicCache(ddp_cache_data=[(keys.expand(rows, -1, -1, -1), values.expand(rows, -1, -1, -1))
                                        for keys, values in states], config=config)


def with_opening(masks, size: int, sees: "torch.Tensor", positions: "torch.Tensor", config):
    """The layout's additive masks (a tensor, or one per attention type) with `size` columns in front for the
    opening: open to every token of the rows where `sees` is true, within the sliding window where there is one."""
    import torch

    def extend(mask: "torch.Tensor", window: int | None) -> "torch.Tensor":
        rows, _, length, _ = mask.shape
        allowed = sees.to(mask.device)[:, None, None].expand(rows, length, size)
        if window:  # the opening's positions are 0, 1, …
            allowed = allowed & ((positions[:, :, None] - torch.arange(size, device=mask.device)) < window)
        return torch.cat([additive_mask(allowed, mask.dtype), mask], dim=-1)

    if not isinstance(masks, dict):
        return extend(masks, None)
    window = sliding_window(config)
    return {kind: extend(mask, window if kind == "sliding_attention" else None) for kind, mask in masks.items()}
