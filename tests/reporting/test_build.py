"""A report built from fixture metrics: files, numbers, sentences, and one clear error per bad input."""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from pathlib import Path

import pytest

from paw.cli import run_guarded
from paw.config import load_params
from paw.errors import PawError
from paw.reporting.build import OUTPUT_FILES, build_report, write_report
from paw.reporting.summary import ReportSettings, summarize_transfer
from tests.reporting.conftest import DEFAULT_CORRECT, first, write_evaluation, write_reports

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN = {"env": "quick", "source_model": "toy-source", "target_model": "toy-grown", "dataset": "toy-facts",
       "prompt_style": "cloze", "transfer_method": "aligned", "seed": 0}
SETTINGS = ReportSettings(bootstrap_samples=2000, seed=0)


def test_report_files_and_numbers(reports_dir):
    summary = write_report(reports_dir, reports_dir, SETTINGS, RUN)
    for name in OUTPUT_FILES:
        assert (reports_dir / name).stat().st_size > 0, name
    assert json.loads((reports_dir / "summary.json").read_text()) == summary

    assert summary["models"]["target_base"]["acc"] == pytest.approx(0.30)
    assert summary["models"]["transferred"]["n"] == 200
    vs_base = summary["comparisons"]["transferred_vs_target_base"]
    assert vs_base["diff"] == pytest.approx(0.20)
    assert (vs_base["a_only"], vs_base["b_only"]) == (45, 5)
    assert vs_base["p_value"] < 1e-6 and vs_base["significant"] == 1
    assert vs_base["ci_low"] < 0.20 < vs_base["ci_high"]
    vs_control = summary["comparisons"]["transferred_vs_control"]
    assert vs_control["diff"] == pytest.approx(0.20) and vs_control["significant"] == 1
    assert summary["recovery"]["estimate"] == pytest.approx(0.5)
    assert summary["recovery"]["denominator_significant"] == 1
    transfer = summary["transfer"]
    assert (transfer["coverage"], transfer["modules_kept"], transfer["mean_similarity"], transfer["chance"]) == (
        0.75, 21, 0.4, 0.1)
    assert transfer["coverage_by_kind"] == {"down_proj": 0.5, "q_proj": 1.0} and transfer["layer_map"] == "relative-depth"
    assert transfer["peak_gpu_mb"] is None and "method_summary" not in transfer
    assert summary["train"]["source"]["steps"] == 200
    assert summary["run"]["metric"] == "acc" and summary["run"]["target_model"] == "toy-grown"

    md = (reports_dir / "summary.md").read_text()
    assert "![accuracy with one standard error](accuracy.png)" in md
    assert "0.3000 ± 0.0325" in md  # acc ± stderr of the target base: sqrt(.3·.7·200/199)/sqrt(200)
    assert "transferred LoRA vs target base: +20.0 points" in md
    assert "Recovery 0.50" in md and "did not beat" not in md
    assert "| coverage_by_kind.down_proj | 0.5" in md
    assert "Mean subspace similarity 0.4 against a chance level of 0.1" in md
    assert (reports_dir / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    rows = list(csv.DictReader((reports_dir / "summary.csv").open()))
    assert [r["model"] for r in rows] == list(summary["models"])
    transferred = next(r for r in rows if r["model"] == "transferred")
    assert transferred["baseline"] == "target_base" and float(transferred["diff"]) == pytest.approx(0.2)
    plot_rows = list(csv.DictReader((reports_dir / "plots" / "accuracy.csv").open()))
    assert plot_rows[3] == {"model": "transferred LoRA", "acc": "0.5", "acc_stderr": plot_rows[3]["acc_stderr"]}


def test_the_report_is_reproducible(reports_dir, tmp_path):
    write_report(reports_dir, tmp_path / "a", SETTINGS, RUN)
    write_report(reports_dir, tmp_path / "b", SETTINGS, RUN)
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_insignificant_lora_gain_gets_the_plain_sentence(tmp_path):
    # The target LoRA is right on 2 more items than the base: not significant, so recovery divides by noise.
    reports = write_reports(tmp_path / "reports", {"target_lora": first(62), "transferred": first(61)})
    summary = write_report(reports, reports, SETTINGS, RUN)
    assert summary["recovery"]["denominator_significant"] == 0
    assert summary["comparisons"]["target_lora_vs_target_base"]["significant"] == 0
    assert "the target LoRA itself did not beat the base" in (reports / "summary.md").read_text()


def test_identical_lora_and_base_make_recovery_undefined(tmp_path):
    reports = write_reports(tmp_path / "reports", {"target_lora": first(60)})
    summary = write_report(reports, reports, SETTINGS, RUN)
    assert summary["recovery"]["estimate"] is None
    assert "Recovery is undefined" in (reports / "summary.md").read_text()
    assert "NaN" not in (reports / "summary.json").read_text()


def test_acc_norm_metric_uses_the_normalised_predictions(reports_dir):
    summary = write_report(reports_dir, reports_dir, ReportSettings(metric="acc_norm", bootstrap_samples=500), RUN)
    assert summary["run"]["metric"] == "acc_norm"
    # acc_norm flips every tenth item: target base 0.34, transferred 0.50 (acc gives 0.30 and 0.50).
    assert summary["comparisons"]["transferred_vs_target_base"]["diff"] == pytest.approx(0.16)


def _unlink(relative):
    return lambda r: (r / relative).unlink()


def _write(relative, text):
    return lambda r: (r / relative).write_text(text)


@pytest.mark.parametrize(
    "damage, expected",
    [
        (_unlink("eval/control/predictions.jsonl"), r"eval/control/predictions\.jsonl: file not found"),
        (_unlink("eval/target_lora/metrics.json"), r"eval/target_lora/metrics\.json: file not found"),
        (_unlink("train/target/metrics.json"), r"train/target/metrics\.json: file not found"),
        (_write("transfer/diagnostics.json", "{oops"), r"transfer/diagnostics\.json: not valid JSON"),
        (lambda r: write_evaluation(r, "control", first(60), ids=[f"x{i:03d}" for i in range(200)]),
         r"eval/control/predictions\.jsonl: item ids differ from source_base's"),
        (_write("eval/transferred/metrics.json", '{"n": 199, "acc": 0.5, "acc_stderr": 0.03}'),
         r"eval/transferred/metrics\.json: n = 199 — expected 200"),
        (_write("eval/transferred/metrics.json", '{"n": 200, "acc": 0.45, "acc_stderr": 0.03}'),
         r"eval/transferred/metrics\.json: acc = 0.45 — expected 0.5, the share of predictions"),
        (_write("eval/source_base/metrics.json", '{"n": 200, "acc": "high", "acc_stderr": 0.03}'),
         r"eval/source_base/metrics\.json: acc = 'high' — expected a number"),
        (_write("eval/source_lora/predictions.jsonl", '{"id": "a", "gold": 1}\n'),
         r"eval/source_lora/predictions\.jsonl:1: missing pred"),
        (_write("eval/source_lora/predictions.jsonl", '{"id": "a", "gold": 1, "pred": 1}\n{"id": "a"'),
         r"eval/source_lora/predictions\.jsonl:2: not valid JSON"),
        (_write("eval/source_lora/predictions.jsonl", '{"id": 7, "gold": 1, "pred": 1}\n' * 2),
         r"eval/source_lora/predictions\.jsonl:2: id '7' appears twice"),
    ],
)
def test_bad_inputs_raise_one_error_and_write_nothing(reports_dir, damage, expected):
    damage(reports_dir)
    with pytest.raises(PawError, match=expected):
        write_report(reports_dir, reports_dir, SETTINGS, RUN)
    assert not any((reports_dir / name).exists() for name in OUTPUT_FILES)


def test_build_report_from_params(tmp_path, reports_dir):
    from paw.reporting.build import build_report as exported  # what stages/report.py imports

    assert exported is build_report
    params = load_params(REPO_ROOT / "params.yaml", overrides={"report.bootstrap_samples": 300, "seed": 5})
    summary = build_report(params, reports_dir)
    assert summary["run"]["seed"] == 5 and summary["run"]["env"] == params.env
    assert summary["run"]["source_model"] == params.profile.source_model
    assert summary["run"]["bootstrap_samples"] == 300
    # Diagnostics written beside the adapter by the transfer stage.
    moved = tmp_path / "transfer_out" / "diagnostics.json"
    moved.parent.mkdir()
    (reports_dir / "transfer" / "diagnostics.json").rename(moved)
    with pytest.raises(PawError, match=r"transfer/diagnostics\.json: file not found"):
        build_report(params, reports_dir)
    assert build_report(params, reports_dir, transfer_diagnostics=moved)["transfer"]["coverage"] == 0.75
    # Without a control adapter the control evaluation is neither required nor reported.
    shutil.rmtree(reports_dir / "eval" / "control")
    no_control = load_params(REPO_ROOT / "params.yaml", overrides={"transfer.control": False})
    summary = build_report(no_control, reports_dir, moved)
    assert "control" not in summary["models"] and "transferred_vs_control" not in summary["comparisons"]


def test_cli_reports_a_missing_input_as_one_line(tmp_path, capsys, monkeypatch):
    from paw.cli import report

    parser = argparse.ArgumentParser()
    report.register(parser.add_subparsers())
    args = parser.parse_args(["report", "--params", str(REPO_ROOT / "params.yaml"),
                              "--reports-dir", str(tmp_path / "nothing")])
    assert run_guarded(lambda: args.func(args)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("paw: error: ") and "eval/source_base/metrics.json: file not found" in err
    assert len(err.splitlines()) == 1


def test_cli_writes_the_report(reports_dir, capsys):
    from paw.cli import report

    parser = argparse.ArgumentParser()
    report.register(parser.add_subparsers())
    args = parser.parse_args(["report", "--params", str(REPO_ROOT / "params.yaml"), "--reports-dir", str(reports_dir)])
    assert run_guarded(lambda: args.func(args)) == 0
    assert "Recovery 0.50" in capsys.readouterr().out
    assert (reports_dir / "summary.md").is_file()


def test_transfer_diagnostics_are_read_in_the_shape_the_transfer_writes(reports_dir):
    """One shape (paw.transfer.records), written by the transfer and read by the report; another is refused."""
    from tests.reporting.conftest import TRANSFER_DIAGNOSTICS

    assert summarize_transfer(TRANSFER_DIAGNOSTICS) == {
        "method": "aligned", "threshold": 0.0001, "rank": 64, "layer_map": "relative-depth",
        "modules_considered": 28, "modules_kept": 21, "coverage": 0.75, "mean_similarity": 0.4, "chance": 0.1,
        "mean_energy_kept": 0.8, "mean_norm_ratio": 1.1, "mean_update_size": 0.01, "seconds": 1.5,
        "peak_ram_mb": 900.0, "peak_gpu_mb": None,
        "coverage_by_kind": {"down_proj": 0.5, "q_proj": 1.0}, "coverage_by_depth": {"early": 0.75}}
    path = reports_dir / "transfer" / "diagnostics.json"
    # Counts in place of a share and no totals block: nothing writes that, so nothing is guessed from it.
    path.write_text(json.dumps({"method": "copy", "coverage": {"transferred": 3, "total": 4}}))
    with pytest.raises(PawError, match=r"transfer/diagnostics\.json: no totals block — expected the diagnostics"):
        write_report(reports_dir, reports_dir, SETTINGS, RUN)
    path.write_text(json.dumps({**TRANSFER_DIAGNOSTICS, "totals": {"modules_considered": 4, "coverage": 0.5}}))
    with pytest.raises(PawError, match=r"totals\.modules_kept = None — expected a number"):
        write_report(reports_dir, reports_dir, SETTINGS, RUN)
    assert not (reports_dir / "summary.json").exists()


def test_single_item_evaluations_report_undefined_errors(tmp_path):
    """One item: stderr is NaN in metrics.json; the report shows the accuracy without an error bar."""
    root = tmp_path / "reports"
    one = {name: vector[:1] for name, vector in DEFAULT_CORRECT.items()}
    for name, vector in one.items():
        write_evaluation(root, name, vector)
        path = root / "eval" / name / "metrics.json"
        assert json.loads(path.read_text())["acc_stderr"] != json.loads(path.read_text())["acc_stderr"]  # NaN
    write_reports(root, one)
    summary = write_report(root, root, SETTINGS, RUN)
    assert summary["models"]["target_base"]["acc_stderr"] is None
    assert "NaN" not in (root / "summary.json").read_text()
    assert (root / "accuracy.png").is_file()


def test_suspicious_updates_reach_the_summary():
    from paw.reporting.summary import summarize_transfer

    assert summarize_transfer({"method": "activation", "totals": {"suspicious_modules": 3}})["suspicious_modules"] == 3
