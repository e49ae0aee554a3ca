"""Train the LoRA of one base (`source` or `target`).  Serves `dvc repro train@source` / `train@target`.

Checkpoints persist in models/checkpoints/<role> across runs; training resumes from them only when they were
written for the same params, data and base (see paw.training), so an interrupted `dvc repro` picks up where it was.
"""

import _env  # noqa: F401  (first: checks this interpreter has paw, see stages/_env.py)

from paw.config import load_params
from paw.pipeline.checks import check_consistency
from paw.pipeline.layout import ROLES, adapter_dir, base_model_dir, checkpoint_dir, train_report_dir
from paw.pipeline.stage import run_stage, stage_choice


def main() -> None:
    from paw.training.api import train_from_params

    role = stage_choice(__doc__, "role", ROLES)
    params = load_params()
    check_consistency(params)
    train_from_params(params, base_model_dir(params, role), adapter_dir(role), train_report_dir(role),
                      checkpoint_dir(role))


if __name__ == "__main__":
    run_stage(main)
