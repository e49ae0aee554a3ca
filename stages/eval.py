"""Evaluate one base, with or without an adapter, on the task.  Serves `dvc repro eval_<name>`,
name in source_base, source_lora, target_base, transferred, control, target_lora."""

import _env  # noqa: F401  (first: checks this interpreter has paw, see stages/_env.py)
import sys

from paw.config import load_params
from paw.pipeline.checks import check_consistency
from paw.pipeline.layout import EVAL_RUNS, base_model_dir, eval_dir
from paw.pipeline.stage import run_stage


def main() -> None:
    from paw.evaluation import evaluate_from_params

    run = EVAL_RUNS[sys.argv[1]]
    params = load_params()
    check_consistency(params)
    evaluate_from_params(params, base_model_dir(params, run.role), run.adapter, eval_dir(run.name))


if __name__ == "__main__":
    run_stage(main)
