"""Keep the carried modules that reach `transfer.threshold` and write the target adapter, its norm-matched control
and the diagnostics. Loads no base model.  Serves `dvc repro transfer`."""

import _env  # noqa: F401  (first: checks this interpreter has paw, see stages/_env.py)

from paw.config import load_params
from paw.io import read_json
from paw.pipeline.layout import CARRIED_DIR, CARRY_COST, TRANSFER_DIR, TRANSFER_REPORT_DIR
from paw.pipeline.stage import run_stage
from paw.pipeline.transfer import check_transfer


def main() -> None:
    from paw.pipeline.transfer import select_carried

    params = load_params()
    check_transfer(params)
    select_carried(params, CARRIED_DIR, read_json(CARRY_COST), TRANSFER_DIR, TRANSFER_REPORT_DIR)


if __name__ == "__main__":
    run_stage(main)
