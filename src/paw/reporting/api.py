"""Reporting engine: the paired statistics (bootstrap intervals, exact McNemar tests, recovery with its interval)
over every evaluation of one run, written as reports/summary.{json,csv,md} and charts; and the sweep over
experiments (`dvc exp show`) as reports/sweep.{md,csv,png}.

    from paw.reporting.api import build_report, build_sweep
    summary = build_report(params, reports_dir="reports")
    rows = build_sweep(param="transfer.threshold")

Its inputs are read through the writers' own modules (paw.evaluation.records, paw.training.records,
paw.transfer.records), so a report is never built from a file another version wrote differently.
"""

from paw.reporting.build import build_report, write_report
from paw.reporting.inputs import read_inputs
from paw.reporting.summary import ReportSettings, recovery_sentence
from paw.reporting.sweep import build_sweep

__all__ = ["ReportSettings", "build_report", "build_sweep", "read_inputs", "recovery_sentence", "write_report"]
