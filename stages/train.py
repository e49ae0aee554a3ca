"""Train the LoRA of one base (`source` or `target`).  Serves `dvc repro train@source` / `train@target`."""

import dataclasses
import sys

from paw.config import load_params
from paw.pipeline.checkpoints import reset_if_changed
from paw.pipeline.checks import check_consistency
from paw.pipeline.layout import adapter_dir, base_model_dir, checkpoint_dir, train_report_dir
from paw.pipeline.stage import run_stage


def main() -> None:
    from paw.training import train_from_params

    role = sys.argv[1]
    params = load_params()
    check_consistency(params)
    model_dir = base_model_dir(params, role)
    settings = [dataclasses.asdict(params), str(model_dir)]
    reset_if_changed(checkpoint_dir(role), settings)
    train_from_params(params, model_dir, adapter_dir(role), train_report_dir(role), checkpoint_dir(role))


if __name__ == "__main__":
    run_stage(main)
