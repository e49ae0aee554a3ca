"""Keep the carried modules that reach `transfer.threshold` and write the target adapter, its norm-matched control
and the diagnostics. Loads no base model.  Serves `dvc repro transfer`."""

import _env  # noqa: F401  (first: checks this interpreter has paw, see stages/_env.py)

from paw.config import load_params
from paw.io import read_json
from paw.pipeline.checks import check_transfer
from paw.pipeline.layout import CARRIED_DIR, CARRY_COST, TRANSFER_DIR, TRANSFER_REPORT_DIR
from paw.pipeline.stage import run_stage


def main() -> None:
    from paw.transfer import transfer_from_carried_params

    params = load_params()
    check_transfer(params)
    transfer_from_carried_params(params, CARRIED_DIR, TRANSFER_DIR, carry_cost=read_json(CARRY_COST))
    # Diagnostics go to reports/ (in git) so `dvc metrics diff` compares them across branches; each file is
    # moved whole (reports/transfer/ also holds the carry stage's cost).
    for name in ("diagnostics.json", "diagnostics.md"):
        (TRANSFER_DIR / name).replace(TRANSFER_REPORT_DIR / name)


if __name__ == "__main__":
    run_stage(main)
