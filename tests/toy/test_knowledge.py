"""A toy source base learns the world's facts: cloze accuracy clearly above chance (slow: real pretraining)."""

from __future__ import annotations

import pytest

from paw.config import ToyParams


@pytest.mark.slow
def test_source_knows_facts_clearly_better_than_chance(tmp_path):
    from paw.toy.build import build_base, build_corpus, measure_base

    toy = ToyParams(n_entities=80, source_steps=300)  # a smaller world and budget than the default, same settings
    build_corpus(toy, tmp_path / "data")
    build_base("source", toy, tmp_path / "models", tmp_path / "data")
    measured = measure_base("source", tmp_path / "models", tmp_path / "data")
    assert measured["cloze_accuracy"] >= 0.45, measured  # chance is 0.25
