"""Fixtures for training tests: a small learnable synthetic task and a fast training setup."""

from __future__ import annotations

import pytest

from paw.data.base import Item

WORDS = ("red", "blue", "green", "water", "fire", "tree", "bird")


def synthetic_pairs(n: int = 40) -> list[tuple[str, str]]:
    """Question i always has answer WORDS[i % 7]: a few steps of LoRA learn it."""
    return [(f"Question: what is the {i % 7} thing?\nAnswer:", " " + WORDS[i % 7]) for i in range(n)]


def synthetic_items(n: int = 6) -> list[Item]:
    items = []
    for i in range(n):
        question = f"Question: what is the {i % 7} thing?\nAnswer:"
        choices = [WORDS[i % 7], WORDS[(i + 1) % 7], WORDS[(i + 2) % 7]]
        items.append(Item(i, [question] * 3, [" " + c for c in choices], 0, choices))
    return items


@pytest.fixture
def fast_setup():
    from paw.training.run import TrainSetup
    from paw.training.params import LoraParams, TrainParams

    return TrainSetup(
        train=TrainParams(val_every_n_steps=5, log_every_n_steps=5, checkpoint_every_n_steps=5, warmup_ratio=0.1),
        lora=LoraParams(r=4, alpha=8.0, dropout=0.1),
        lr=5.0e-3,
        batch_size=8,
        max_steps=10,
    )
