"""Evaluate one base, with or without an adapter, on the task.  Serves `dvc repro eval@<name>`.

<name> is a key of paw.pipeline.layout.EVAL_RUNS: source_base, source_lora, target_base, transferred, control,
target_lora (dvc.yaml's `eval` foreach lists the same)."""

import _env  # noqa: F401  (first: checks this interpreter has paw, see stages/_env.py)

from paw.config import load_params
from paw.pipeline.checks import check_consistency
from paw.pipeline.layout import EVAL_RUNS, base_model_dir, eval_dir
from paw.pipeline.stage import run_stage, stage_choice


def main() -> None:
    from paw.evaluation.api import evaluate_from_params

    run = EVAL_RUNS[stage_choice(__doc__, "name", EVAL_RUNS)]
    params = load_params()
    check_consistency(params)
    evaluate_from_params(params, base_model_dir(params, run.role), run.adapter, eval_dir(run.name))


if __name__ == "__main__":
    run_stage(main)
