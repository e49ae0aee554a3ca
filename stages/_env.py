"""Imported first by every stage script, before anything from `paw`: makes sure the interpreter DVC started has paw.

dvc.yaml runs `python stages/<name>.py`, and `python` is whatever PATH finds. Called as `.venv/bin/dvc exp run`
without the venv on PATH, that is the system Python, and the stage would die on `No module named 'paw'` after DVC
has already removed its outputs. So: when paw is missing here but the project's own `.venv/bin/python` exists, the
stage is re-run under it (one note on stderr); when there is none, one line says how to fix it and the exit status
is 2. A server's own conda/venv that has paw installed is used as it is.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

# Set on the re-run so that a venv which lacks paw too ends in the message instead of a loop.
_REEXEC = "PAW_STAGE_REEXEC"
_VENV_PYTHON = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"


def ensure_paw() -> None:
    if importlib.util.find_spec("paw") is not None:
        return
    if _VENV_PYTHON.is_file() and not os.environ.get(_REEXEC):
        print(f"note: paw is not installed in {sys.executable}; running this stage with {_VENV_PYTHON}",
              file=sys.stderr)
        sys.stderr.flush()
        os.environ[_REEXEC] = "1"
        os.execv(_VENV_PYTHON, [str(_VENV_PYTHON), sys.argv[0], *sys.argv[1:]])
    print(f"paw is not installed in {sys.executable}: activate the project's environment "
          f"(source .venv/bin/activate, after `make install` if there is none) and rerun", file=sys.stderr)
    sys.exit(2)


ensure_paw()
