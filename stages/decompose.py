"""Truncated SVDs of one base's weights, cached for every transfer.  Serves `dvc repro decompose@source|target`."""

import _env  # noqa: F401  (first: checks this interpreter has paw, see stages/_env.py)

from paw.config import load_params
from paw.io import write_json
from paw.pipeline.layout import REPORTS, ROLES, base_model_dir, svd_dir
from paw.pipeline.stage import run_stage, stage_choice


def main() -> None:
    from paw.transfer.api import decompose_from_params

    role = stage_choice(__doc__, "role", ROLES)
    params = load_params()
    summary = decompose_from_params(params, base_model_dir(params, role), svd_dir(role))
    write_json(REPORTS / "decompose" / f"{role}.json", summary)


if __name__ == "__main__":
    run_stage(main)
