"""Silence Hugging Face progress bars and chatter so logs stay one line per event (no `\\r` floods)."""

from __future__ import annotations

import logging
import os
import warnings

_DONE = False


def quiet_hf() -> None:
    """Call before importing transformers/peft/datasets work; idempotent."""
    global _DONE
    if _DONE:
        return
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("DVC_STUDIO_OFFLINE", "1")
    os.environ.setdefault("DVCLIVE_LOGLEVEL", "WARNING")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "lightning_fabric", "pytorch_lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*TRANSFORMERS_CACHE.*")
    # PEFT still calls a transformers property that warns on every adapter load; nothing for a user to act on.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
    _DONE = True
