"""The packed scorer checks, before it packs, that the model honours the packed layout's masks: in float32 by
agreement with one row per choice, in bf16 (where two layouts differ by rounding) by being nearer those scores
than a mask-ignoring model's are."""

from __future__ import annotations

import pytest

from paw.data import Item


def _grouped(model, tokenizer):
    from paw.evaluation.requests import build_requests
    from paw.scoring import resolve_max_length

    # Choices of several tokens: a choice that saw another's tokens would score differently.
    items = [Item(f"q{i}", ["Question: which one is it?\nAnswer:"] * 3,
                  [" the red stone river", " a green forest bird", " old iron and salt"], 0,
                  ["the red stone river", "a green forest bird", "old iron and salt"]) for i in range(2)]
    return build_requests(tokenizer, items, resolve_max_length(model.config, tokenizer))


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_packing_is_verified_and_a_model_ignoring_its_masks_is_caught(tiny_llama, dtype):
    from paw.evaluation.scorer import Scorer
    from paw.models import load_model, load_tokenizer

    model, tokenizer = load_model(tiny_llama, dtype), load_tokenizer(tiny_llama)
    grouped = _grouped(model, tokenizer)
    scorer = Scorer(model)
    assert scorer.half_precision == (dtype == "bfloat16")
    assert scorer.shared_path_verified(grouped)
    # As an architecture that drops custom 4D masks would: plain causal attention over the packed row.
    scorer._masks = lambda positions, parents, valid: valid
    assert not scorer.shared_path_verified(grouped)


def test_score_reports_each_request_once_and_falls_back_when_the_masks_are_ignored(tiny_llama, capsys):
    """The probe rides in the first packed batch: a model that ignores the masks is caught there, everything is
    scored again one row per choice, and the scores are those of that layout."""
    from paw.evaluation.scorer import Scorer
    from paw.models import load_model, load_tokenizer

    model, tokenizer = load_model(tiny_llama), load_tokenizer(tiny_llama)
    grouped = _grouped(model, tokenizer) * 3
    want = Scorer(model, share_context=False).score(grouped)
    for broken in (False, True):
        scorer, reported = Scorer(model, token_budget=64, row_tokens=32), []
        if broken:
            scorer._masks = lambda positions, parents, valid: valid
        got = scorer.score(grouped, on_batch=reported.append)
        assert scorer.share_context is not broken
        assert got == pytest.approx(want, abs=1e-4)
        # Each request once, after its scores are final: a failed probe reports nothing of its batch.
        assert sorted(n for batch in reported for n in batch) == list(range(len(want)))
        assert ("scoring each choice separately" in capsys.readouterr().err) is broken


def test_the_layout_check_costs_no_forward_of_its_own(tiny_llama):
    """Float32: every decoder call is a packed batch that also scores real requests."""
    from paw.evaluation.scorer import Scorer
    from paw.models import load_model, load_tokenizer

    model, tokenizer = load_model(tiny_llama), load_tokenizer(tiny_llama)
    grouped = _grouped(model, tokenizer) * 4
    total = sum(map(len, grouped))
    scorer, calls = Scorer(model, token_budget=128, row_tokens=64), []
    decode = scorer._decode
    scorer._decode = lambda batch, packed=None: calls.append((packed, batch)) or decode(batch, packed)
    got = scorer.score(grouped)
    assert scorer.share_context and len(got) == total
    assert calls and all(packed for packed, _ in calls)
    scored = [{number for row in batch for _, _, number in row.scored} for _, batch in calls]
    assert all(numbers & set(range(total)) for numbers in scored)
    assert set().union(*scored) == set(range(total + 2))  # every request, and the two references
