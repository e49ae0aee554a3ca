"""Lay requests out as model rows: either one row per choice (plain) or one row per item (shared context).

Shared context: the choices of a question usually share their first tokens (the whole question). The row holds
that common prefix once, then each choice's own tokens one after the other; a branch id per token lets the
attention mask keep choices from seeing each other, and position ids restart after the prefix for each choice,
so every scored position sees exactly the tokens it would see alone. ARC needs 2.7-2.9x fewer tokens this way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paw.evaluation.requests import Request


@dataclass
class Row:
    tokens: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    branches: list[int] = field(default_factory=list)  # 0 = shared prefix, c + 1 = choice c
    # (index in row, target token, request number) for every scored position
    scored: list[tuple[int, int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tokens)


def plain_rows(requests: list[Request], first_request: int) -> list[Row]:
    rows = []
    for offset, request in enumerate(requests):
        n = len(request.input_ids)
        start = n - request.n_scored
        rows.append(Row(
            tokens=list(request.input_ids),
            positions=list(range(n)),
            branches=[0] * n,
            scored=[(start + k, t, first_request + offset) for k, t in enumerate(request.targets)],
        ))
    return rows


def shared_row(requests: list[Request], first_request: int) -> Row:
    inputs = [r.input_ids for r in requests]
    shared = _common_prefix_length(inputs)
    row = Row(tokens=list(inputs[0][:shared]), positions=list(range(shared)), branches=[0] * shared)
    for choice, request in enumerate(requests):
        own_start = len(row.tokens)
        own = request.input_ids[shared:]
        row.tokens += own
        row.positions += range(shared, shared + len(own))
        row.branches += [choice + 1] * len(own)
        first_scored = len(request.input_ids) - request.n_scored
        for k, target in enumerate(request.targets):
            position = first_scored + k
            index = position if position < shared else own_start + position - shared
            row.scored.append((index, target, first_request + choice))
    return row


def _common_prefix_length(sequences: list[list[int]]) -> int:
    shortest = min(len(s) for s in sequences)
    first = sequences[0]
    n = 0
    while n < shortest and all(s[n] == first[n] for s in sequences):
        n += 1
    return n


def token_budget_batches(rows: list[Row], token_budget: int, min_fill: float = 0.9) -> list[list[Row]]:
    """Rows sorted longest first, grouped so that rows × longest row stays within the budget (at least one row)
    and no row is shorter than `min_fill` × the batch's longest: padding is wasted work (measured: 60% of the
    tokens of a Gemma 3 ARC run were padding without this bound)."""
    ordered = sorted(rows, key=len, reverse=True)
    batches: list[list[Row]] = []
    for row in ordered:
        if batches:
            longest = len(batches[-1][0])
            if (len(batches[-1]) + 1) * longest <= token_budget and len(row) >= min_fill * longest:
                batches[-1].append(row)
                continue
        batches.append([row])
    return batches
