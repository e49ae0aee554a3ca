"""Tiny toy worlds for tests: a few entities, width 32, a few pretraining steps (seconds to build)."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY = dict(
    n_entities=12, pool_size=6, seq_len=32, batch_size=4, hidden_size=32, num_layers=2, num_heads=4,
    grown_extra_layers=1, source_steps=3, sibling_steps=2, grown_steps=2, independent_steps=2,
)


def tiny_toy(**overrides):
    from paw.config import ToyParams

    return ToyParams(**(TINY | overrides))


def build_tiny(root: Path, **overrides) -> dict:
    from paw.toy.build import build_world

    return build_world(tiny_toy(**overrides), models_dir=root / "models", data_dir=root / "data")


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory) -> Path:
    """A built tiny world: <root>/models/toy-*, <root>/data/*.jsonl."""
    root = tmp_path_factory.mktemp("toy_world")
    build_tiny(root)
    return root
