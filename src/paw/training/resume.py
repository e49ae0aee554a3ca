"""Which checkpoint a rerun resumes: a fingerprint of everything that decides the trained weights, kept in each
checkpoint, and the check of `last.ckpt` against it (a checkpoint of other inputs is removed, not resumed)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from paw.io import remove_path
from paw.training.callbacks import LAST_CHECKPOINT

if TYPE_CHECKING:
    from paw.training.run import TrainSetup


def run_fingerprint(setup: TrainSetup, base_model_name: str, examples, objective=None) -> str:
    """What decides the trained weights; a checkpoint is resumed only when this matches."""
    digest = hashlib.sha256()
    for ex in examples:
        digest.update(json.dumps(dataclasses.astuple(ex)).encode())  # [ids, n_answer] for gold-answer examples
    decisive = {
        "base": base_model_name,
        "lora": dataclasses.asdict(setup.lora),
        "train": {k: v for k, v in dataclasses.asdict(setup.train).items() if not k.endswith(("_steps", "_samples"))},
        "lr": setup.lr, "batch_size": setup.batch_size, "grad_accum": setup.grad_accum,
        "max_steps": setup.max_steps, "precision": setup.precision, "devices": setup.devices, "seed": setup.seed,
        "examples": digest.hexdigest(),
    }  # fmt: skip
    if objective is not None:
        decisive["objective"] = objective.fingerprint()
    return hashlib.sha256(json.dumps(decisive, sort_keys=True, default=list).encode()).hexdigest()


def resumable_checkpoint(checkpoint_dir: Path, fingerprint: str) -> str | None:
    """The path of `last.ckpt` when it was made from the same inputs, else None (and the file is removed)."""
    import torch

    path = checkpoint_dir / LAST_CHECKPOINT
    if not path.is_file():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True).get("paw_fingerprint")
    except Exception as exc:  # a damaged file must not block a fresh start
        saved, why = None, f"unreadable ({str(exc).splitlines()[0][:80]})"
    else:
        why = "made from other inputs (params, data or base model changed)"
    if saved == fingerprint:
        return str(path)
    print(f"{path}: {why} — starting from step 0", flush=True)
    remove_path(path)
    return None
