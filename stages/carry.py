"""Carry every module of the source LoRA into the target base (threshold-independent: the costly part of a
transfer, which a threshold change does not rerun).  Serves `dvc repro carry`."""

import _env  # noqa: F401  (first: checks this interpreter has paw, see stages/_env.py)

from paw.config import load_params
from paw.io import write_json
from paw.pipeline.checks import check_consistency
from paw.pipeline.layout import CARRIED_DIR, CARRY_COST, adapter_dir, base_model_dir, svd_dir
from paw.pipeline.stage import run_stage
from paw.pipeline.transfer import check_transfer


def main() -> None:
    from paw.transfer.api import carry_from_params

    params = load_params()
    check_consistency(params)
    check_transfer(params)
    cost = carry_from_params(
        params,
        base_model_dir(params, "source"),
        adapter_dir("source"),
        base_model_dir(params, "target"),
        CARRIED_DIR,
        source_svd_dir=svd_dir("source"),
        target_svd_dir=svd_dir("target"),
    )
    write_json(CARRY_COST, cost)


if __name__ == "__main__":
    run_stage(main)
