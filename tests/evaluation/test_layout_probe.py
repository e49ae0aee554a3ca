"""Where the layout check's reference requests are laid: first in rows outside the probe, so that any causal model
reads each as a row of its own."""

from __future__ import annotations


def test_references_lead_the_shortest_rows_outside_the_probe():
    from types import SimpleNamespace

    from paw.evaluation.layout_probe import lead_rows
    from paw.packing import trie_row

    def request(*ids):
        return SimpleNamespace(input_ids=list(ids), n_scored=1, targets=[ids[-1]])

    bins = [[(0, request(1, 2, 3, 4, 5))],  # the probe's rows: no reference may lead them
            [(1, request(6, 7, 8, 9))],
            [(2, request(6, 7))],
            [(3, request(8, 9, 10))]]
    references = [(10, request(1, 2, 3)), (11, request(1, 4)), (12, request(5, 5))]
    out = lead_rows(bins, references, avoid={0, 1})
    assert out[0] == bins[0]
    assert out[2][0][0] == 10 and out[3][0][0] == 11  # shortest first, one each
    assert out[1] == bins[1] and out[4] == [references[2]]  # none left to host the third: a row alone
    # Laid first, a reference starts its row: its tokens at indices 0.., position ids 0.., a chain.
    row = trie_row(out[2])
    assert row.tokens[:3] == [1, 2, 3] and row.positions[:3] == [0, 1, 2] and row.parents[:3] == [-1, 0, 1]


def test_references_are_the_compared_requests_numbered_after_the_real_ones():
    from types import SimpleNamespace

    from paw.evaluation.layout_probe import references

    a, b, c = (SimpleNamespace(input_ids=[i], n_scored=1, targets=[i]) for i in range(3))
    assert references([(4, a), (5, b), (6, c)], compared=[6, 4], first=9) == [(9, c), (10, a)]
    assert references([], compared=[], first=3) == []
