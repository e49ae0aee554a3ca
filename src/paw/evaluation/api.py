"""Evaluation engine: lm-eval 0.4.13-identical multiple-choice scores, faster (shared contexts, head only where
scored, token-budget batches), with outputs the report can pair item by item.

    from paw.evaluation.api import evaluate, evaluate_from_params
    metrics = evaluate(model_dir, adapter_dir, "arc-challenge", out_dir, prompt_style="cloze", sample_ratio=1.0)
    metrics = evaluate_from_params(params, model_dir, adapter_dir, out_dir)

See engine.py for the output files and paw.scoring for the exact lm-eval rules followed.
"""

from paw.evaluation.engine import (
    EvalSet,
    evaluate,
    evaluate_from_params,
    load_eval_set,
    run_evaluations,
    score_eval_set,
)
from paw.evaluation.spec import EvalSpec

__all__ = ["EvalSet", "EvalSpec", "evaluate", "evaluate_from_params", "load_eval_set", "run_evaluations",
           "score_eval_set"]
