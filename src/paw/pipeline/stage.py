"""Run a stage's `main()` the way the CLI runs a command: a PawError becomes one line on stderr and exit 2."""

from __future__ import annotations

import os
import sys
from typing import Callable


def run_stage(main: Callable[[], object]) -> None:
    from paw.cli import run_guarded

    os.environ.setdefault("DVC_STUDIO_OFFLINE", "1")
    sys.exit(run_guarded(main, debug=bool(os.environ.get("PAW_DEBUG"))))
