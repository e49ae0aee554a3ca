"""The `toy` section of params.yaml: the embedded synthetic world that the `quick` environment runs on."""

from __future__ import annotations

from dataclasses import dataclass

from paw.fields import in_open_closed, non_negative, param, positive

POSITIVE_INT = "a positive integer"


def _split_fraction(v: float) -> bool:
    return 0 < v < 1


@dataclass(frozen=True)
class ToyParams:
    seed: int = param(0)  # every random choice of the world, its tokenizer and its models
    n_entities: int = param(260, check=positive, expect=POSITIVE_INT)  # invented entities, 5 facts each
    pool_size: int = param(12, check=lambda v: v >= 4, expect="an integer >= 4 (4 choices per question)")
    n_kinds: int = param(12, check=positive, expect=POSITIVE_INT)  # hidden kinds whose typical values entities share
    exception_rate: float = param(0.2, check=lambda v: 0 <= v <= 1, expect="a number in [0, 1]")  # facts off the kind
    filler_ratio: float = param(0.05, check=non_negative, expect="a number >= 0")  # filler lines per fact line
    train_fraction: float = param(0.15, check=_split_fraction, expect="a number in (0, 1)")  # LoRA training entities
    validation_fraction: float = param(0.05, check=_split_fraction, expect="a number in (0, 1)")  # the rest: test
    seq_len: int = param(64, check=positive, expect=POSITIVE_INT)  # tokens per pretraining sequence
    batch_size: int = param(16, check=positive, expect=POSITIVE_INT)  # sequences per pretraining step
    lr: float = param(5.0e-3, check=in_open_closed(0, 1), expect="a number in (0, 1]")  # AdamW peak lr
    hidden_size: int = param(128, check=positive, expect=POSITIVE_INT)  # source width; grown doubles it
    num_layers: int = param(4, check=positive, expect=POSITIVE_INT)  # source depth
    num_heads: int = param(4, check=positive, expect=POSITIVE_INT)  # source attention heads
    grown_extra_layers: int = param(2, check=non_negative, expect="an integer >= 0")  # identity blocks inserted
    drift_lr: float = param(1.0e-3, check=in_open_closed(0, 1), expect="a number in (0, 1]")  # sibling/grown lr
    source_steps: int = param(2000, check=positive, expect=POSITIVE_INT)  # pretraining of toy-source
    sibling_steps: int = param(300, check=positive, expect=POSITIVE_INT)  # further training of toy-sibling
    grown_steps: int = param(60, check=non_negative, expect="an integer >= 0")  # drift of toy-grown after growth
    independent_steps: int = param(2000, check=positive, expect=POSITIVE_INT)  # pretraining of toy-independent
