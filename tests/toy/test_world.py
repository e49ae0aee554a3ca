"""The toy world's texts: ARC schema, split by entity, question wording absent from the corpus, seeded."""

from __future__ import annotations

from paw.toy.world import ATTRIBUTES, LABELS, corpus_lines, fact_statements, generate_world, question_rows
from tests.toy.conftest import tiny_toy


def test_rows_follow_the_arc_hub_schema_with_four_choices_from_one_pool():
    toy = tiny_toy(n_entities=30)
    world = generate_world(toy)
    for split in ("train", "validation", "test"):
        for row in question_rows(world, split, toy):
            assert set(row) == {"id", "question", "choices", "answerKey"}
            assert row["choices"]["label"] == list(LABELS)
            texts = row["choices"]["text"]
            assert len(set(texts)) == 4 and row["answerKey"] in LABELS
            attribute = row["id"].split("-", 2)[2]
            assert set(texts) <= set(world.pools[attribute])


def test_answers_are_corpus_facts():
    toy = tiny_toy(n_entities=30)
    world = generate_world(toy)
    facts = {(f.entity, f.attribute): f.value for f in world.facts}
    for row in question_rows(world, "test", toy):
        _, entity, attribute = row["id"].split("-", 2)
        answer = row["choices"]["text"][LABELS.index(row["answerKey"])]
        assert answer == facts[(entity, attribute)]


def test_splits_are_disjoint_by_entity_and_cover_all_entities():
    toy = tiny_toy(n_entities=40)
    world = generate_world(toy)
    entity_sets = {}
    for split in ("train", "validation", "test"):
        entity_sets[split] = {row["id"].split("-", 2)[1] for row in question_rows(world, split, toy)}
    assert not entity_sets["train"] & entity_sets["test"]
    assert not entity_sets["train"] & entity_sets["validation"]
    assert not entity_sets["validation"] & entity_sets["test"]
    assert set().union(*entity_sets.values()) == set(world.entities)


def test_question_wording_never_appears_in_the_corpus():
    toy = tiny_toy(n_entities=30)
    world = generate_world(toy)
    corpus = "\n".join(corpus_lines(world, toy)).lower()
    for row in question_rows(world, "test", toy):
        assert row["question"].lower().rstrip("?") not in corpus
    for attribute in ATTRIBUTES:  # the templates' fixed words, e.g. "where does the"
        stem = attribute.question.split("{e}")[0].strip().lower()
        assert stem not in corpus


def test_every_fact_is_stated_in_every_phrasing():
    toy = tiny_toy()
    world = generate_world(toy)
    lines = set(corpus_lines(world, toy))
    for fact in world.facts:
        assert set(fact_statements(fact)) <= lines


def test_same_seed_same_world_other_seed_other_world():
    a, b, c = (generate_world(tiny_toy(seed=s)) for s in (0, 0, 1))
    assert a == b
    assert a.facts != c.facts


def test_splits_that_leave_no_test_entities_are_refused():
    import pytest

    from paw.errors import PawError

    with pytest.raises(PawError, match=r"toy\.train_fraction \+ toy\.validation_fraction = 1 — expected less than 1"):
        generate_world(tiny_toy(train_fraction=0.6, validation_fraction=0.4))
