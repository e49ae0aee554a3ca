"""`paw report sweep` on captured experiments (see data/capture_exp_show.sh) — as `dvc exp show --json` writes them
and as `dvc.api.exp_show` returns them — and on odd shapes."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest

from paw.errors import PawError
from paw.reporting import sweep

SAMPLE = Path(__file__).parent / "data" / "exp_show.json"
API_SAMPLE = Path(__file__).parent / "data" / "exp_show_api.json"  # the same experiments, from dvc.api.exp_show
PARAM = "transfer.threshold"


@pytest.fixture
def sample():
    return json.loads(SAMPLE.read_text())


@pytest.fixture
def api_rows(sample, monkeypatch):
    """`read_experiments` over the captured dvc.api rows, the baseline resolved to the commit the CLI sample names."""
    import dvc.api
    import dvc.scm

    commits = {entry["name"]: entry["rev"] for entry in sample if entry.get("name")}

    class Scm:
        def __init__(self, root):
            pass

        def resolve_rev(self, rev):
            return commits.get(rev, rev)

    rows = json.loads(API_SAMPLE.read_text())
    monkeypatch.setattr(dvc.api, "exp_show", lambda repo=None, **kwargs: copy.deepcopy(rows))
    monkeypatch.setattr(dvc.scm, "SCM", Scm)
    return sweep.read_experiments(".")


def test_parse_captured_sample(sample):
    rows = sweep.parse_exp_show(sample, PARAM)
    assert [r["name"] for r in rows] == ["master", "thr-1e-3", "thr-1e-2", "thr-1e-1", "thr-queued"]
    assert [r[PARAM] for r in rows] == [1e-4, 1e-3, 1e-2, 1e-1, 0.5]
    assert [r["state"] for r in rows] == ["done"] * 4 + ["queued"]
    master = rows[0]
    assert master["transferred_acc"] == pytest.approx(0.5) and master["coverage"] == pytest.approx(1.0)
    assert master["recovery"] == pytest.approx(0.5) and master["target_base_acc"] == pytest.approx(0.3)
    # Coverage falls as the threshold rises; the queued experiment has no metrics yet.
    assert [r["coverage"] for r in rows[:4]] == sorted((r["coverage"] for r in rows[:4]), reverse=True)
    assert rows[4]["transferred_acc"] is None and rows[4]["coverage"] is None
    assert len({r["rev"] for r in rows}) == len(rows)  # the workspace duplicate is gone


def test_api_rows_give_the_rows_of_the_cli_json(sample, api_rows):
    assert sweep.parse_exp_show(api_rows, PARAM) == sweep.parse_exp_show(sample, PARAM)
    assert sweep.parse_exp_show(api_rows, "lora.r") == sweep.parse_exp_show(sample, "lora.r")


def test_api_rows_odd_states():
    base = {"typ": "baseline", "rev": "a" * 40, "Experiment": "main", "Created": "12:00 PM", "State": None,
            "params.yaml:transfer.threshold": 0.01, "reports/summary.json:transfer.threshold": 0.01,
            "models.transferred.acc": "!", "transfer.coverage": "!"}
    rows = sweep.parse_exp_show([
        {"typ": "baseline", "rev": "workspace", "Created": None},
        base,
        {"typ": "branch_commit", "rev": "bbbbbbb", "Experiment": "failed-one", "Created": "12:01 PM",
         "State": "Failed", "params.yaml:transfer.threshold": 0.001},
        {"typ": "branch_commit", "rev": "ccccccc", "Experiment": None, "Created": "12:02 PM", "State": None,
         "./reports/summary.json:models.transferred.acc": 0.4},
        {"typ": "branch_commit", "rev": "ddddddd", "Experiment": "unreadable", "Created": None, "State": None},
        "not a row",
    ], PARAM)
    assert [(r["name"], r["rev"], r["state"], r[PARAM]) for r in rows] == [
        ("failed-one", "bbbbbbb", "failed", 0.001), ("main", "aaaaaaa", "no metrics", 0.01),
        ("ccccccc", "ccccccc", "done", None), ("unreadable", "ddddddd", "error", None)]
    assert rows[2]["transferred_acc"] == 0.4 and rows[1]["transferred_acc"] is None  # "!": the file was unreadable


def test_reading_a_directory_without_a_repository_is_one_clear_error(tmp_path):
    with pytest.raises(PawError, match="expected a Git repository with DVC initialised"):
        sweep.read_experiments(tmp_path)


def test_write_sweep_outputs(sample, tmp_path):
    rows = sweep.parse_exp_show(sample, PARAM)
    sweep.write_sweep(rows, PARAM, tmp_path)
    md = (tmp_path / "sweep.md").read_text()
    assert "| thr-queued" in md and "queued" in md and "![transferred accuracy and coverage](sweep.png)" in md
    assert "5 revisions from `dvc exp show`, 4 with a finished report" in md
    table = list(csv.DictReader((tmp_path / "sweep.csv").open()))
    assert table[1]["name"] == "thr-1e-3" and float(table[1][PARAM]) == 1e-3
    assert table[4]["transferred_acc"] == ""
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"


def test_another_param_and_missing_values(sample):
    rows = sweep.parse_exp_show(sample, "lora.r")
    assert all(r["lora.r"] is None for r in rows) and len(rows) == 5


def test_tolerates_errors_and_odd_entries():
    entries = [
        {"rev": "workspace", "data": {"params": {}, "metrics": {}}},
        "not a record",
        {"rev": "a" * 40, "name": "main", "error": {"type": "SCMError", "msg": "broken"}, "data": None,
         "experiments": [
             {"revs": [{"rev": "b" * 40, "name": "exp-b", "data": {
                 "params": {"params.yaml": {"data": {"transfer": {"threshold": 0.01}}}},
                 "metrics": {"reports/summary.json": {"error": {"type": "FileNotFoundError", "msg": "x"}}}}}],
              "executor": {"state": "failed"}, "name": "exp-b"},
             {"revs": [{"rev": "c" * 40, "name": None, "data": {
                 "params": {"other.yaml": {"data": {"transfer": {"threshold": 0.001}}}},
                 "metrics": {"./reports/summary.json": {"data": {"models": {"transferred": {"acc": 0.4}},
                                                                  "transfer": {"coverage": "n/a"}}}}}}],
              "executor": None},
             None,
         ]},
    ]
    rows = sweep.parse_exp_show(entries, PARAM)
    by_rev = {r["rev"]: r for r in rows}
    assert set(by_rev) == {"aaaaaaa", "bbbbbbb", "ccccccc"}
    assert by_rev["aaaaaaa"]["state"] == "error"
    assert by_rev["bbbbbbb"]["state"] == "failed" and by_rev["bbbbbbb"]["transferred_acc"] is None
    assert by_rev["ccccccc"]["name"] == "ccccccc" and by_rev["ccccccc"]["transferred_acc"] == 0.4
    assert by_rev["ccccccc"]["coverage"] is None  # a non-number is not charted
    assert [r["rev"] for r in rows][:2] == ["ccccccc", "bbbbbbb"]  # sorted by threshold, unknown last


def test_rejects_non_list_and_empty():
    with pytest.raises(PawError, match="expected a list of revisions"):
        sweep.parse_exp_show({"rev": "x"})
    with pytest.raises(PawError, match="no commits or experiments"):
        sweep.write_sweep([], PARAM, Path("/nonexistent"))


def test_missing_dvc_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(sweep.shutil, "which", lambda *a, **k: None)
    with pytest.raises(PawError, match="dvc: not found on PATH"):
        sweep.run_exp_show(".")
