"""What every stage script shares: its one argument checked by argparse, and its `main()` run the way the CLI runs
a command (a PawError becomes one line on stderr and exit 2)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Iterable, Sequence
from paw.errors import run_guarded


def stage_choice(doc: str, name: str, choices: Iterable[str], argv: Sequence[str] | None = None) -> str:
    """The stage's one positional argument (dvc.yaml passes the foreach item), one of `choices`. A wrong or missing
    one is a single argparse error naming the valid ones, and exit status 2."""
    parser = argparse.ArgumentParser(prog=f"stages/{Path(sys.argv[0]).name}", description=doc.splitlines()[0])
    parser.add_argument(name, choices=list(choices))
    return getattr(parser.parse_args(argv), name)


def run_stage(main: Callable[[], object]) -> None:
    os.environ.setdefault("DVC_STUDIO_OFFLINE", "1")
    sys.exit(run_guarded(main, debug=bool(os.environ.get("PAW_DEBUG"))))
