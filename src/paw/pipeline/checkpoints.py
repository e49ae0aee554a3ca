"""Keep training checkpoints only while they belong to the same run settings.

The checkpoint directory persists across `dvc repro` runs so an interrupted training resumes. When the settings
change (a new lr, another base), resuming from the old checkpoints would silently mix two runs, so they are dropped.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

FINGERPRINT = "settings.sha256"


def fingerprint(settings: Any) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


def reset_if_changed(directory: Path, settings: Any) -> None:
    """Empty `directory` unless it was written for exactly these settings; then record them."""
    directory = Path(directory)
    digest = fingerprint(settings)
    marker = directory / FINGERPRINT
    if directory.exists() and (not marker.is_file() or marker.read_text().strip() != digest):
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    marker.write_text(digest + "\n")
