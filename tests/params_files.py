"""Small params.yaml files for tests that run a command against one: written from mappings, not YAML text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# The keys an env block must have; everything else falls back to the shared sections' defaults.
MINIMAL_PROFILE = {"models_dir": ".", "source_model": "a", "target_model": "b", "train_batch_size": 2,
                   "max_steps": 5, "eval_sample_ratio": 1.0, "eval_batch_size": 8}


def write_params(path: Path, env: str = "cpu", profile: dict[str, Any] | None = None, **sections: Any) -> Path:
    """A params file selecting `env`, whose block is MINIMAL_PROFILE updated by `profile`, plus `sections`."""
    data = {"env": env, **sections, "envs": {env: {**MINIMAL_PROFILE, **(profile or {})}}}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
