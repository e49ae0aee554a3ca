"""Items as loglikelihood requests, tokenised exactly as lm-eval 0.4.13's HFLM does (the rules: paw.scoring).

Each request becomes the model input `(ctx + cont)[-(max_length+1):][:-1]` and the scored targets, the last
len(cont) tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from paw.data import Item
from paw.errors import PawError
from paw.scoring import encode_pairs, resolve_max_length, window

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["Request", "build_requests", "resolve_max_length"]  # resolve_max_length: paw.scoring's, re-exported


@dataclass(frozen=True)
class Request:
    """One choice of one item: model input tokens and the targets scored at the end of it."""

    input_ids: list[int]  # what the model reads (the last full token is never input)
    n_scored: int  # the last n_scored positions of input_ids predict `targets`
    targets: list[int]


def build_requests(
    tokenizer: "PreTrainedTokenizerBase", items: Sequence[Item], max_length: int
) -> list[list[Request]]:
    """One list of requests (one per choice) per item; all strings are tokenised in a few batched calls."""
    pairs = [pair for item in items for pair in zip(item.contexts, item.continuations, strict=True)]
    requests: list[Request] = []
    for (_, continuation), (ctx, cont) in zip(pairs, encode_pairs(tokenizer, pairs)):
        if len(cont) > max_length:
            raise PawError(
                f"a continuation of {len(cont)} tokens ({continuation[:40]!r}…) is longer than the model's maximum "
                f"length {max_length} — expected continuations that fit the model"
            )
        ids = list(window(ctx, cont, max_length).ids)
        requests.append(Request(input_ids=ids[:-1], n_scored=len(cont), targets=ids[len(ids) - len(cont):]))
    grouped, start = [], 0
    for item in items:
        grouped.append(requests[start:start + len(item.contexts)])
        start += len(item.contexts)
    return grouped
