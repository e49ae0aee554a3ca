"""LoRA training: a causal LM plus PEFT LoRA, trained with Lightning on a task's answers, saved as a PEFT adapter.

`train_from_params` is what the pipeline stage calls; `train_lora` is the lower-level entry the CLI and tests use.
Names resolve lazily so that reading params (which imports paw.training.params) never loads torch or Lightning.
"""

from __future__ import annotations

from typing import Any

# paw.training.params needs paw.config.fields, and paw.config's schema imports paw.training.params: loading
# paw.config first makes both import orders work.
import paw.config  # noqa: F401,E402

_EXPORTS = {
    "TrainSetup": "paw.training.run",
    "train_lora": "paw.training.run",
    "train_from_params": "paw.training.pipeline",
    "setup_from_params": "paw.training.pipeline",
    "training_data": "paw.training.pipeline",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'paw.training' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
