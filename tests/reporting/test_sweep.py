"""`paw report sweep` on a captured `dvc exp show --json` (see data/capture_exp_show.sh) and on odd shapes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from paw.errors import PawError
from paw.reporting import sweep

SAMPLE = Path(__file__).parent / "data" / "exp_show.json"
PARAM = "transfer.threshold"


@pytest.fixture
def sample():
    return json.loads(SAMPLE.read_text())


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
