"""The check that a model honours the packed layout (paw.packing): which requests it compares, and where their
reference scores are laid.

A model that ignores the layout's custom masks or position ids still runs, and scores packed rows wrongly. So the
scorer packs two questions as one trie (the probe) and compares two of their choices, scored there, with the same
choices scored as rows of their own. The references ride in the packed batches: each is laid first in another
row, where any causal model reads it exactly as a row of its own (nothing precedes it, and its position ids are
its indices).
"""

from __future__ import annotations

from paw.evaluation.requests import Request
from paw.packing import trie_row


def layout_probe(questions: list[list[tuple[int, Request]]]) -> tuple[list[tuple[int, Request]], list[int]]:
    """Two questions packed as one trie, and the requests whose packed scores must equal a row of their own.

    An architecture that does not honour the packed layout's masks (position ids, 4D or per-layer-type masks)
    scores them otherwise: the first question's last choice (choices of two tokens or more, so one that saw
    the other choices would change from its second token on) and the second question's first choice (which
    would see the first question). Each question is the cheapest such, counted in per-choice tokens, so the
    reference rows cost little. ([], []) when there is nothing to compare."""
    if sum(map(len, questions)) < 2:
        return [], []

    def cost(i: int) -> int:
        return sum(len(request.input_ids) for _, request in questions[i])

    multi = [i for i, q in enumerate(questions) if len(q) > 1] or [i for i, q in enumerate(questions) if q]
    sensitive = [i for i in multi if min(len(r.targets) for _, r in questions[i]) >= 2]
    first = min(sensitive or multi, key=cost)
    second = min((i for i in range(len(questions)) if i != first and questions[i]), key=cost, default=None)
    sample = [first] if second is None else [first, second]
    compared = [questions[first][-1][0]] + ([questions[second][0][0]] if second is not None else [])
    if len(compared) == 1 and len(questions[first]) > 1:
        compared.insert(0, questions[first][0][0])
    return [pair for i in sample for pair in questions[i]], compared


def references(probe: list[tuple[int, Request]], compared: list[int], first: int) -> list[tuple[int, Request]]:
    """The compared requests again, numbered from `first` (after every real request): their scores land in slots
    of their own."""
    requests = dict(probe)
    return [(first + k, requests[number]) for k, number in enumerate(compared)]


def lead_rows(bins: list[list[tuple[int, Request]]], leaders: list[tuple[int, Request]],
              avoid: set[int]) -> list[list[tuple[int, Request]]]:
    """`bins` (each a row's numbered requests) with each leader laid first in one of them: the shortest rows that
    hold none of the `avoid` numbers, one leader each; a leader left over gets a row alone. The first request of a
    row is laid from its start (see `trie_row`)."""
    hosts = sorted((i for i, row in enumerate(bins) if not any(number in avoid for number, _ in row)),
                   key=lambda i: len(trie_row(bins[i])))
    out = list(bins)
    for k, leader in enumerate(leaders):
        if k < len(hosts):
            out[hosts[k]] = [leader, *out[hosts[k]]]
        else:
            out.append([leader])
    return out
