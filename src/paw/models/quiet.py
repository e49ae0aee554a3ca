"""Silence Hugging Face and Lightning progress bars and chatter, so logs stay one line per event (no `\\r` floods)."""

from __future__ import annotations

import logging
import os
import warnings

_DONE = False

# Lightning warnings that name nothing to fix in these runs: training batches are an endless in-process iterable
# by design, a resumed run restarts mid-"epoch", and every process scores the same validation items.
LIGHTNING_WARNINGS = (
    ".*does not have many workers.*",
    ".*resuming from a checkpoint that ended before the epoch ended.*",
    ".*that ended before the epoch ended.*",
    ".*IterableDataset.*__len__.*",
    ".*Total length of .* across ranks is zero.*",
    ".*`training_step` returned `None`.*",
    ".*GPU available but not used.*",
    ".*LeafSpec.*",
    ".*but have no `val_dataloader`.*",
    ".*sync_dist=True.*",  # every rank scores the same validation items: nothing to reduce
    ".*The number of training batches .* is smaller than the logging interval.*",
)


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
    quiet_lightning()  # evaluation runs Lightning Fabric in the same processes
    warnings.filterwarnings("ignore", message=".*TRANSFORMERS_CACHE.*")
    # PEFT still calls a transformers property that warns on every adapter load; nothing for a user to act on.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
    _DONE = True


def quiet_lightning() -> None:
    """Lightning's info lines (GPU/TPU availability, hints) and known-harmless warnings. Call it again once
    Lightning is imported: importing it sets its loggers back to INFO. Repeating it adds no duplicate filters."""
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "lightning_fabric", "pytorch_lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for message in LIGHTNING_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
