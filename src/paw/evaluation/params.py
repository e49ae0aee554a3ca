"""The `eval` section of params.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from paw.fields import one_of, param

@dataclass(frozen=True)
class EvalParams:
    prompt_style: str = param("cloze", check=one_of("cloze", "letter"), expect="cloze or letter")
    split: str | None = param(None, expect="a split name")  # null = the task's lm-eval split
