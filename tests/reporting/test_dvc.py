"""The report as DVC sees it: `dvc metrics diff` across two branches, the DVC plots, and a live `paw report sweep`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paw.reporting.build import write_report
from paw.reporting.summary import ReportSettings
from paw.reporting.sweep import build_sweep
from tests.reporting.conftest import first, write_reports

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DVC_YAML = """\
stages:
  report:
    cmd: python make_report.py
    deps: [make_report.py]
    params: [transfer.threshold]
    metrics:
      - reports/summary.json:
          cache: false
    plots:
      - reports/plots/accuracy.csv:
          cache: false
          x: acc
          y: model
          template: bar_horizontal
"""
# The stage the live sweep runs: the fixture reports, transferred accuracy falling as the threshold rises.
MAKE_REPORT = """\
from pathlib import Path
from ruamel.yaml import YAML
from paw.reporting.build import write_report
from paw.reporting.summary import ReportSettings
from tests.reporting.conftest import first, write_reports
threshold = YAML(typ="safe").load(open("params.yaml"))["transfer"]["threshold"]
reports = write_reports(Path("reports"), {"transferred": first(100 if threshold < 1e-3 else 70)})
write_report(reports, reports, ReportSettings(bootstrap_samples=200), {"env": "quick"})
"""


def _env() -> dict:
    env = dict(os.environ, DVC_NO_ANALYTICS="1", PYTHONPATH=str(REPO_ROOT))
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(cwd: Path, *command: str) -> str:
    done = subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def dvc_repo(tmp_path) -> Path:
    if shutil.which("dvc", path=str(VENV_BIN)) is None or shutil.which("git") is None:
        pytest.fail("dvc (in the virtual environment) and git are required")
    repo = tmp_path / "repo"
    repo.mkdir()
    _run(repo, "git", "init", "-q", "-b", "main")
    _run(repo, "git", "config", "user.email", "paw@example.com")
    _run(repo, "git", "config", "user.name", "paw")
    _run(repo, "dvc", "init", "-q")
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "params.yaml").write_text("transfer:\n  threshold: 1.0e-4\n")
    (repo / "make_report.py").write_text(MAKE_REPORT)
    # Only the report's own outputs are committed, as in the pipeline (inputs come from cached stages).
    (repo / ".gitignore").write_text("/reports/eval\n/reports/train\n/reports/transfer\n")
    return repo


def _report_into(repo: Path, transferred_correct: int) -> None:
    reports = write_reports(repo / "reports", {"transferred": first(transferred_correct)})
    write_report(reports, reports, ReportSettings(bootstrap_samples=500), {"env": "quick"})


@pytest.mark.slow
def test_metrics_diff_between_branches_shows_the_change(dvc_repo):
    _report_into(dvc_repo, 100)
    _run(dvc_repo, "git", "add", "-A")
    _run(dvc_repo, "git", "commit", "-qm", "transfer at 0.50")
    _run(dvc_repo, "git", "checkout", "-qb", "weaker")
    _report_into(dvc_repo, 70)
    _run(dvc_repo, "git", "commit", "-qam", "transfer at 0.35")

    diff = json.loads(_run(dvc_repo, "dvc", "metrics", "diff", "main", "weaker", "--json"))
    changes = diff["reports/summary.json"]
    acc = changes["models.transferred.acc"]
    assert (acc["old"], acc["new"]) == (0.5, 0.35) and acc["diff"] == pytest.approx(-0.15)
    assert changes["comparisons.transferred_vs_target_base.diff"]["new"] == pytest.approx(0.05)
    assert changes["recovery.estimate"]["old"] == pytest.approx(0.5)
    assert changes["recovery.estimate"]["new"] == pytest.approx(0.125)
    assert "comparisons.transferred_vs_target_base.p_value" in changes
    assert "models.target_base.acc" not in changes  # unchanged values are not listed

    shown = json.loads(_run(dvc_repo, "dvc", "metrics", "show", "--json"))
    assert "error" not in json.dumps(shown)
    plots = json.loads(_run(dvc_repo, "dvc", "plots", "show", "--json"))
    (bar,) = plots["data"]["reports/plots/accuracy.csv"]
    assert bar["content"]["encoding"]["x"]["field"] == "acc"  # bar_horizontal: x quantitative, y the model
    values = bar["content"]["data"]["values"]
    assert [v["model"] for v in values][:4] == ["source base", "source LoRA", "target base", "transferred LoRA"]
    assert float(values[3]["acc"]) == 0.35


@pytest.mark.slow
def test_sweep_reads_live_experiments(dvc_repo, monkeypatch):
    _run(dvc_repo, "dvc", "repro", "-q")
    _run(dvc_repo, "git", "add", "-A")
    _run(dvc_repo, "git", "commit", "-qm", "baseline")
    _run(dvc_repo, "dvc", "exp", "run", "-q", "-S", "transfer.threshold=1.0e-2", "-n", "strict")
    monkeypatch.setenv("PATH", _env()["PATH"])  # `paw report sweep` runs dvc from PATH
    rows = build_sweep(dvc_repo, "transfer.threshold", "reports")
    assert [(r["name"], r["transfer.threshold"], r["transferred_acc"]) for r in rows] == [
        ("main", 1e-4, 0.5), ("strict", 1e-2, 0.35)]
    assert (dvc_repo / "reports" / "sweep.png").is_file() and (dvc_repo / "reports" / "sweep.md").is_file()
