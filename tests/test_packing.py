"""The packed layout: one token trie per question, several questions a row, and masks that let each token see its
own path only. Scores through it equal one row per choice (tests/evaluation/test_engine.py); here, its shape."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from paw.packing import ancestry, item_tree, pack_questions, plain_rows, row_tensors, trie_row


@dataclass(frozen=True)
class Choice:
    input_ids: tuple[int, ...]
    n_scored: int
    targets: tuple[int, ...]


def _question(context: tuple[int, ...], choices: list[tuple[int, ...]]) -> list[Choice]:
    """Requests as the evaluation builds them: context + continuation minus its last token, scoring every
    continuation token."""
    return [Choice(context + c[:-1], len(c), c) for c in choices]


def _paths(row, numbered):
    """Per request, the row indices of its tokens, read back from the parents (last token up to its root)."""
    out = {}
    for number, request in numbered:
        last = max(i for i, _, owner in row.scored if owner == number)
        path = [last]
        while row.parents[path[-1]] >= 0:
            path.append(row.parents[path[-1]])
        out[number] = path[::-1]
    return out


def test_a_question_is_one_trie_whose_paths_are_its_requests():
    question = _question((1, 2, 3), [(7, 8, 9), (7, 8, 4), (5,)])
    row = item_tree(question, 10)
    # The context once and the shared "7 8" once; the choices' last tokens are targets only, never read.
    assert row.tokens == [1, 2, 3, 7, 8]
    assert row.positions == [0, 1, 2, 3, 4] and row.parents == [-1, 0, 1, 2, 3]
    for number, path in _paths(row, list(enumerate(question, 10))).items():
        request = question[number - 10]
        assert [row.tokens[i] for i in path][:len(request.input_ids)] == list(request.input_ids)
    assert sorted((owner, t) for _, t, owner in row.scored) == [(10, 7), (10, 8), (10, 9), (11, 4), (11, 7), (11, 8),
                                                                 (12, 5)]
    # Choice 0 and 1 predict their first two tokens from the same positions: the head runs once for both.
    assert {i for i, _, o in row.scored if o == 10} & {i for i, _, o in row.scored if o == 11} == {2, 3, 4}


def test_questions_pack_into_rows_of_bounded_length_sharing_their_common_opening():
    questions = [list(enumerate(_question((1, 2, 10 + q, 20 + q), [(30 + q, 40), (50 + q, 60)]), 2 * q))
                 for q in range(5)]
    rows = pack_questions(questions, row_tokens=12)
    sizes = [len(trie_row(q)) for q in questions]  # context 4 and one own token per choice
    assert sizes == [6] * 5
    assert all(len(row) <= 12 for row in rows)
    # "1 2" opens every question: a row of two questions holds it once.
    assert sum(map(len, rows)) < sum(sizes)
    owners = sorted(owner for row in rows for _, _, owner in row.scored)
    assert owners == sorted(n for q in questions for n, r in q for _ in r.targets)


def test_a_question_longer_than_a_row_gets_a_row_of_its_own():
    long = list(enumerate(_question(tuple(range(100, 140)), [(1, 2), (3, 4)])))
    short = list(enumerate(_question((5, 6), [(7, 8), (9, 10)]), 2))
    rows = pack_questions([short, long], row_tokens=16)
    assert sorted(map(len, rows)) == [4, 42]


def test_a_token_sees_itself_and_its_ancestors_only():
    first = _question((1, 2), [(3, 4), (5, 6)])
    second = _question((1, 9), [(7, 8)])
    row = trie_row(list(enumerate(first)) + list(enumerate(second, 2)))
    tensors = row_tensors([row, plain_rows([first[0]], 0)[0]])
    allowed = ancestry(tensors["parents"], tensors["attention_mask"])[0]
    for i in range(len(row)):
        chain, node = {i}, i
        while row.parents[node] >= 0:
            node = row.parents[node]
            chain.add(node)
        assert {j for j in range(allowed.shape[1]) if allowed[i, j]} == chain
    # The shorter second row is padded: its padding sees nothing (attention_masks lets it see itself).
    plain = ancestry(tensors["parents"], tensors["attention_mask"])[1]
    n = len(plain_rows([first[0]], 0)[0])
    assert torch.equal(plain[:n, :n], torch.tril(torch.ones(n, n, dtype=torch.bool)))
    assert not plain[n:].any()


def _random_questions(seed: int, n: int) -> list[list[tuple[int, Choice]]]:
    import random

    rng = random.Random(seed)
    questions, number = [], 0
    for q in range(n):
        context = (1, 2) + tuple(rng.randrange(3, 9) for _ in range(rng.randrange(1, 6)))
        choices = [tuple(rng.randrange(3, 9) for _ in range(rng.randrange(1, 4))) for _ in range(rng.randrange(2, 5))]
        choices += [choices[0] + (5,), choices[0]]
        requests = _question(context, choices)
        questions.append(list(enumerate(requests, number)))
        number += len(requests)
    return questions


def test_rows_evened_out_fill_whole_batches_of_nearly_one_length():
    questions = _random_questions(1, 60)
    loose = pack_questions(questions, row_tokens=40)
    even = pack_questions(questions, row_tokens=40, rows_multiple=4)
    assert len(even) % 4 == 0 and len(even) <= -(-len(loose) // 4) * 4
    assert all(len(row) <= 40 for row in even)
    spread = lambda rows: max(map(len, rows)) - min(map(len, rows))  # noqa: E731
    assert spread(even) < spread(loose)
    owners = lambda rows: sorted(o for row in rows for _, _, o in row.scored)  # noqa: E731
    assert owners(even) == owners(loose)
    assert pack_questions([], row_tokens=40, rows_multiple=4) == []


@pytest.mark.parametrize("rows_multiple", [1, 4])
def test_every_scored_position_reads_exactly_its_own_request_in_order(rows_multiple):
    """Questions that share openings, choices that share first words, a choice that is a prefix of another, and a
    duplicate choice, packed into rows: walking up from each scored position gives the request's own tokens, its
    depth is the position id, and the target is the token that request predicts there."""
    questions = _random_questions(0, 12)
    requests = dict(pair for q in questions for pair in q)
    rows = pack_questions(questions, row_tokens=24, rows_multiple=rows_multiple)
    seen = []
    for row in rows:
        for index, target, owner in row.scored:
            chain = [index]
            while row.parents[chain[-1]] >= 0:
                chain.append(row.parents[chain[-1]])
            chain.reverse()
            request = requests[owner]
            depth = row.positions[index]
            assert [row.positions[i] for i in chain] == list(range(depth + 1))
            assert [row.tokens[i] for i in chain] == list(request.input_ids[:depth + 1])
            k = depth - (len(request.input_ids) - request.n_scored)
            assert target == request.targets[k]
            seen.append((owner, k))
    assert sorted(seen) == sorted((n, k) for n, r in requests.items() for k in range(r.n_scored))


def test_a_request_scoring_more_positions_than_it_reads_is_refused():
    with pytest.raises(ValueError, match="request 7: 3 scored positions for 2 input tokens"):
        trie_row([(7, Choice((1, 2), 3, (4, 5, 6)))])
