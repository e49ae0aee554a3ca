"""A stage started by an interpreter without paw (`.venv/bin/dvc` with the venv off PATH) re-runs itself under the
project's .venv, or says in one line how to fix it — never `No module named 'paw'`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO_ROOT

PROBE = "import _env  # noqa: F401\nimport sys\nimport paw\nprint('ran with paw', sys.argv[1:])\n"


def _project(tmp_path: Path, venv_python: str | None) -> Path:
    """A copy of stages/_env.py next to a probe stage; `venv_python`, if given, becomes its .venv/bin/python."""
    (tmp_path / "stages").mkdir()
    shutil.copy(REPO_ROOT / "stages" / "_env.py", tmp_path / "stages" / "_env.py")
    (tmp_path / "stages" / "probe.py").write_text(PROBE)
    if venv_python:
        bin_dir = tmp_path / ".venv" / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{venv_python}" "$@"\n')
        (bin_dir / "python").chmod(0o755)
    return tmp_path


def _run_without_paw(project: Path) -> subprocess.CompletedProcess:
    # -S skips site-packages, where paw is installed: the interpreter then stands for a system Python without paw.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PAW_STAGE_REEXEC")}
    return subprocess.run([sys.executable, "-S", "stages/probe.py", "x", "y"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=60)


def test_without_paw_and_without_a_venv_one_line_names_the_fix(tmp_path):
    result = _run_without_paw(_project(tmp_path, venv_python=None))
    assert result.returncode == 2
    assert "No module named" not in result.stderr and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "paw is not installed in" in line and "source .venv/bin/activate" in line and "make install" in line


def test_without_paw_the_stage_reruns_under_the_projects_venv(tmp_path):
    result = _run_without_paw(_project(tmp_path, venv_python=sys.executable))
    assert result.returncode == 0, result.stderr
    assert "ran with paw ['x', 'y']" in result.stdout
    assert "running this stage with" in result.stderr


def test_a_venv_without_paw_ends_in_the_message_not_a_loop(tmp_path):
    # The project's venv python is itself paw-less (-S): the re-run must stop with the message.
    project = _project(tmp_path, venv_python=None)
    bin_dir = project / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    (bin_dir / "python").chmod(0o755)
    result = _run_without_paw(project)
    assert result.returncode == 2
    assert "source .venv/bin/activate" in result.stderr.strip().splitlines()[-1]


def test_every_stage_script_checks_the_interpreter_before_importing_paw():
    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        script = REPO_ROOT / stage.get("do", stage)["cmd"].split()[1]
        imports = re.findall(r"^(?:import|from) (\S+)", script.read_text(), re.M)
        assert imports[0] == "_env", f"{name}: {script.name} must import _env before anything else"
