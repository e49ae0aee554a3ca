"""Parity with lm-eval 0.4.13 on the real Gemma 3 270M (262k vocabulary, sliding-window layers, BOS): slow."""

from __future__ import annotations

import pytest

from paw.data import get_task
from paw.evaluation.api import score_eval_set
from paw.evaluation.engine import EvalSet, summarize
from paw.evaluation.lm_eval_reference import lm_eval_loglikelihoods


@pytest.mark.slow
def test_gemma3_matches_lm_eval_on_50_arc_easy_rows(gemma3_dir, benchmarks_dir, tmp_path):
    from paw.models import load_model, load_tokenizer

    rows = get_task("arc-easy").load_rows(data_path=benchmarks_dir / "arc_easy")[:50]
    reference, lm_metrics = lm_eval_loglikelihoods(gemma3_dir, "arc-easy", rows, tmp_path)
    model, tokenizer = load_model(gemma3_dir), load_tokenizer(gemma3_dir)
    eval_set = EvalSet("arc-easy", "test", "cloze", [get_task("arc-easy").to_item(r, i) for i, r in enumerate(rows)])
    ours = score_eval_set(model, tokenizer, eval_set, progress=False)
    for got, want in zip(ours, reference, strict=True):
        assert got == pytest.approx(want, rel=2e-7, abs=1e-4)
    metrics, _ = summarize(eval_set, ours)
    assert (metrics["acc"], metrics["acc_norm"]) == (lm_metrics["acc,none"], lm_metrics["acc_norm,none"])
