"""LoRA training: a causal LM plus PEFT LoRA, trained with Lightning on a task's answers, saved as a PEFT adapter.

`train_from_params` is what the pipeline stage calls; `train_lora` is the lower-level entry the CLI and tests use.
Names resolve lazily so that reading params (which imports paw.training.params) never loads torch or Lightning.
"""

from __future__ import annotations

from paw.lazy import lazy_exports


_EXPORTS = {
    "TrainSetup": "paw.training.run",
    "train_lora": "paw.training.run",
    "train_from_params": "paw.training.from_params",
    "setup_from_params": "paw.training.from_params",
    "training_data": "paw.training.from_params",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
