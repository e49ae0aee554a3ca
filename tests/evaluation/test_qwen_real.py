"""Parity with lm-eval 0.4.13 on the real Qwen2.5-Coder-0.5B-Instruct (151k vocabulary, no BOS, tied head): slow."""

from __future__ import annotations

import pytest

from paw.data import get_task
from paw.evaluation.api import score_eval_set
from paw.evaluation.engine import EvalSet, summarize
from paw.evaluation.lm_eval_reference import lm_eval_loglikelihoods


@pytest.mark.slow
def test_qwen05_matches_lm_eval_on_30_arc_easy_rows(qwen05_dir, benchmarks_dir, tmp_path):
    from paw.models import load_model, load_tokenizer

    task = get_task("arc-easy")
    rows = task.load_rows(data_path=benchmarks_dir / "arc_easy")[:30]
    reference, lm_metrics = lm_eval_loglikelihoods(qwen05_dir, "arc-easy", rows, tmp_path)
    model, tokenizer = load_model(qwen05_dir), load_tokenizer(qwen05_dir)
    assert tokenizer("Question").input_ids[0] != tokenizer.bos_token_id  # Qwen adds no BOS, as lm-eval expects
    eval_set = EvalSet("arc-easy", "test", "cloze", [task.to_item(r, i) for i, r in enumerate(rows)])
    ours = score_eval_set(model, tokenizer, eval_set, progress=False)
    per_choice = [abs(g - w) for got, want in zip(ours, reference, strict=True) for g, w in zip(got, want, strict=True)]
    assert len(per_choice) >= 4 * 29 and max(per_choice) <= 1e-4
    metrics, _ = summarize(eval_set, ours)
    assert (metrics["acc"], metrics["acc_norm"]) == (lm_metrics["acc,none"], lm_metrics["acc_norm,none"])
