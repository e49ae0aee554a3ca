"""Parity with lm-eval 0.4.13 run in-process on the same tiny models and real rows (slow: lm-eval per task).

Per-choice loglikelihoods agree within 1e-4 absolute — or 2e-7 relative where a sum of many tokens is large,
since lm-eval sums in float32 (at |ll| = 700 one float32 step is 6e-5); acc and acc_norm are identical.
Both scoring paths (shared context and plain rows) are checked, on a BOS-adding (Llama) and a no-BOS (Qwen2)
tokenizer.
"""

from __future__ import annotations

import pytest

from paw.data import get_task
from paw.evaluation.api import score_eval_set
from paw.evaluation.engine import EvalSet, summarize
from tests.data.fixtures import HELLASWAG_ROWS
from paw.evaluation.lm_eval_reference import lm_eval_loglikelihoods

N_ROWS = 50
FOLDERS = {"arc-challenge": "arc_challenge", "arc-easy": "arc_easy", "piqa": "piqa", "winogrande": "winogrande",
           "openbookqa": "openbookqa", "boolq": "boolq"}


def parity_rows(task: str, benchmarks_dir) -> list[dict]:
    if task == "hellaswag":
        # The fixture rows with their endings rotated four ways: 16 items, every gold position.
        return [
            dict(row, endings=row["endings"][k:] + row["endings"][:k], label=str((int(row["label"]) - k) % 4))
            for row in HELLASWAG_ROWS for k in range(4)
        ]
    rows = get_task(task).load_rows(data_path=benchmarks_dir / FOLDERS[task])
    if task == "piqa":
        # The tiny models hold 256 positions; lm-eval refuses a continuation longer than that.
        rows = [r for r in rows if len(r["goal"]) + max(len(r["sol1"]), len(r["sol2"])) < 250]
    return rows[:N_ROWS]


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_loglikelihoods_and_metrics_match_lm_eval(tiny_models, benchmarks_dir, tmp_path, arch):
    from paw.models import load_model, load_tokenizer

    model_dir = tiny_models[arch]
    model, tokenizer = load_model(model_dir, cache=True), load_tokenizer(model_dir)
    for task in ["arc-challenge", "arc-easy", "piqa", "hellaswag", "winogrande", "openbookqa", "boolq"]:
        rows = parity_rows(task, benchmarks_dir)
        reference, lm_metrics = lm_eval_loglikelihoods(model_dir, task, rows, tmp_path / task)
        eval_set = EvalSet(task, "eval", "cloze", [get_task(task).to_item(r, i) for i, r in enumerate(rows)])
        for share_context in (True, False):
            ours = score_eval_set(model, tokenizer, eval_set, share_context=share_context, progress=False)
            for got, want in zip(ours, reference, strict=True):
                assert got == pytest.approx(want, rel=2e-7, abs=1e-4), (task, share_context)
            metrics, _ = summarize(eval_set, ours)
            assert metrics["acc"] == lm_metrics["acc,none"], (task, share_context)
            assert metrics["acc_stderr"] == pytest.approx(lm_metrics["acc_stderr,none"], rel=1e-9)
            if "acc_norm,none" in lm_metrics:
                assert metrics["acc_norm"] == lm_metrics["acc_norm,none"], (task, share_context)
