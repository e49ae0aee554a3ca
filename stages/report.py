"""Write reports/summary.{json,csv,md} and the charts from every evaluation.  Serves `dvc repro report`."""

import _env  # noqa: F401  (first: checks this interpreter has paw, see stages/_env.py)

from paw.config import load_params
from paw.pipeline.layout import REPORTS
from paw.pipeline.stage import run_stage


def main() -> None:
    from paw.reporting.api import build_report

    build_report(load_params(), reports_dir=REPORTS)


if __name__ == "__main__":
    run_stage(main)
