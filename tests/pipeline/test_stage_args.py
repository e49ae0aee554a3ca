"""A stage script's argument is checked by argparse: a wrong or missing name is one error line that lists the valid
ones and exit status 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from paw.pipeline.layout import EVAL_RUNS, ROLES
from paw.pipeline.stage import stage_choice

from tests.conftest import REPO_ROOT

STAGE_CHOICES = {"eval": tuple(EVAL_RUNS), "train": ROLES, "decompose": ROLES}


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, f"stages/{script}.py", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("script", sorted(STAGE_CHOICES))
def test_an_unknown_name_is_one_clear_error(script):
    result = _run(script, "nonsense")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "KeyError" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"stages/{script}.py: error: argument ") and "invalid choice: 'nonsense'" in error
    assert all(repr(choice) in error for choice in STAGE_CHOICES[script])


def test_a_missing_name_is_one_clear_error():
    result = _run("eval")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "stages/eval.py: error: the following arguments are required: name"


def test_a_known_name_is_returned():
    assert stage_choice("Evaluate.", "name", EVAL_RUNS, argv=["control"]) == "control"
    with pytest.raises(SystemExit) as exit_info:
        stage_choice("Evaluate.", "name", EVAL_RUNS, argv=["source-base"])
    assert exit_info.value.code == 2
