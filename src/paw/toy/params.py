"""The `toy` section of params.yaml: the embedded synthetic world that the `quick` environment runs on."""

from __future__ import annotations

from dataclasses import dataclass

from paw.config.fields import param, positive


@dataclass(frozen=True)
class ToyParams:
    seed: int = param(0)  # every random choice of the world, its tokenizer and its models
    n_entities: int = param(200, check=positive, expect="a positive integer")
