"""The run's shared opening is computed once: later rows read its keys and values as a past, scores stay those of
one row per choice, fewer positions are fed, and a past that does not reproduce the opening is caught by the
layout check."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from paw.data import Item
from paw.evaluation.opening import shared_opening, without_opening
from paw.packing import trie_row


@dataclass(frozen=True)
class Req:
    input_ids: list[int]
    n_scored: int
    targets: list[int]


def test_shared_opening_stops_at_the_first_difference_and_before_any_scored_position():
    a, b = Req([5, 6, 7, 8, 9], 2, [9, 1]), Req([5, 6, 7, 3], 1, [2])
    assert shared_opening([a, b]) == 3
    assert shared_opening([a, Req([5, 6, 7, 8, 9], 3, [8, 9, 1])]) == 2  # index 2 is scored there
    assert shared_opening([a, Req([4, 6], 1, [1])]) == 0
    assert shared_opening([]) == 0


def test_without_opening_keeps_positions_and_makes_the_next_tokens_roots():
    row = trie_row([(0, Req([5, 6, 7, 8], 1, [1])), (1, Req([5, 6, 9], 1, [2]))])
    row.opening = 2
    rest = without_opening(row)
    assert rest.tokens == [7, 8, 9] and rest.positions == [2, 3, 2] and rest.parents == [-1, 0, -1]
    assert rest.scored == [(1, 1, 0), (2, 2, 1)] and rest.opening == 2
    row.opening = 3  # token 9 branches off inside it: not a shared opening
    with pytest.raises(ValueError, match="shared opening of 3 tokens"):
        without_opening(row)


def test_the_batch_that_keeps_the_opening_runs_before_the_probe_and_fits_the_cache():
    from paw.evaluation.opening import kept_positions, with_capture_first
    from paw.packing import Row

    def batch(width: int, name: str) -> list[Row]:
        return [Row(tokens=[0] * width, scored=[(0, 0, name)])]

    probe, reference, wide, narrow = batch(40, "p"), batch(50, "r"), batch(70, "x"), batch(30, "y")
    holds_probe = lambda b: b[0].scored[0][2] == "p"  # noqa: E731
    assert with_capture_first([probe, reference], [wide, narrow], holds_probe, None) == (
        [reference, probe], [wide, narrow], True)
    assert with_capture_first([probe, wide], [narrow], holds_probe, 63) == ([narrow, wide, probe], [], True)
    assert with_capture_first([probe], [wide], holds_probe, 63) == ([probe], [wide], False)

    class Config:
        layer_types, sliding_window = ["sliding_attention", "full_attention"], 64

    assert kept_positions(Config()) == 63
    Config.layer_types = ["full_attention"]
    assert kept_positions(Config()) is None


def _grouped(model, tokenizer, n_items: int):
    from paw.evaluation.requests import build_requests
    from paw.scoring import resolve_max_length

    words = ["red", "blue", "cold", "warm", "old", "new", "dark", "bright"]
    items = [Item(f"q{i}", [f"Question: which {words[i % 8]} thing is it, {words[(i * 3) % 8]} one?\nAnswer:"] * 3,
                  [" red stone", " green bird", f" {words[i % 8]} salt"], 0,
                  ["a", "b", "c"]) for i in range(n_items)]
    return build_requests(tokenizer, items, resolve_max_length(model.config, tokenizer))


class Fed:
    """Positions fed to the token embedding while active."""

    def __enter__(self):
        self.count = 0
        self.handle = torch.nn.modules.module.register_module_forward_pre_hook(self._hook)
        return self

    def _hook(self, module, args):
        if isinstance(module, torch.nn.Embedding):
            self.count += args[0].numel()

    def __exit__(self, *exc):
        self.handle.remove()


@pytest.mark.parametrize("arch", ["tiny_llama", "tiny_qwen2", "tiny_gemma2"])
def test_scores_equal_one_row_per_choice_with_fewer_positions(arch, request, monkeypatch):
    """Gemma 2 included: its sliding-window layers keep the first batch's keys only while the batch fits the window
    (64 tokens in the tiny model), and its masks come one per attention type."""
    from paw.evaluation import scorer as scorer_module
    from paw.evaluation.scorer import Scorer
    from paw.models import load_model, load_tokenizer

    model_dir = request.getfixturevalue(arch)
    model, tokenizer = load_model(model_dir), load_tokenizer(model_dir)
    grouped = _grouped(model, tokenizer, 12)
    assert shared_opening([r for question in grouped for r in question]) >= 3
    want = Scorer(model, share_context=False).score(grouped)
    with Fed() as with_opening:
        scorer = Scorer(model, token_budget=128, row_tokens=32)
        got = scorer.score(grouped)
    assert scorer.share_context and got == pytest.approx(want, abs=1e-5)
    monkeypatch.setattr(scorer_module, "shared_opening", lambda requests: 0)
    with Fed() as whole_rows:
        assert Scorer(model, token_budget=128, row_tokens=32).score(grouped) == pytest.approx(want, abs=1e-5)
    assert with_opening.count < whole_rows.count


def test_a_past_that_does_not_reproduce_the_opening_is_caught(tiny_llama, monkeypatch, capsys):
    """The probe's row reads the opening through the past, its references do not: a wrong past fails the check and
    everything is scored again one row per choice."""
    from paw.evaluation import scorer as scorer_module
    from paw.evaluation.scorer import Scorer
    from paw.models import load_model, load_tokenizer

    model, tokenizer = load_model(tiny_llama), load_tokenizer(tiny_llama)
    grouped = _grouped(model, tokenizer, 12)
    want = Scorer(model, share_context=False).score(grouped)
    states = scorer_module.opening_states
    monkeypatch.setattr(scorer_module, "opening_states", lambda *args: [
        (keys + 0.5, values) for keys, values in states(*args)])
    scorer, reported = Scorer(model, token_budget=128, row_tokens=32), []
    got = scorer.score(grouped, on_batch=reported.append)
    assert not scorer.share_context and got == pytest.approx(want, abs=1e-5)
    assert sorted(n for batch in reported for n in batch) == list(range(len(want)))
    assert "scoring each choice separately" in capsys.readouterr().err


def test_batches_wider_than_the_sliding_window_keep_whole_rows(tiny_gemma2, monkeypatch):
    """The sliding layers of the cache keep only the window's last 63 positions: the opening is not recoverable
    from a batch wider than that, so none is kept and every row runs whole (and scores as before)."""
    from paw.evaluation import scorer as scorer_module
    from paw.evaluation.scorer import Scorer
    from paw.models import load_model, load_tokenizer

    model, tokenizer = load_model(tiny_gemma2), load_tokenizer(tiny_gemma2)
    grouped = _grouped(model, tokenizer, 16)
    want = Scorer(model, share_context=False).score(grouped)
    kept = []
    states = scorer_module.opening_states
    monkeypatch.setattr(scorer_module, "opening_states", lambda *args: kept.append(states(*args)) or kept[-1])
    with Fed() as fed:
        got = Scorer(model, token_budget=128, row_tokens=128).score(grouped)  # rows of about 100 tokens
    assert kept == [] and got == pytest.approx(want, abs=1e-5)
    monkeypatch.setattr(scorer_module, "shared_opening", lambda requests: 0)
    with Fed() as whole_rows:
        Scorer(model, token_budget=128, row_tokens=128).score(grouped)
    assert fed.count == whole_rows.count


def test_in_bfloat16_the_check_passes_through_the_past(tiny_llama, monkeypatch):
    """In half precision the packed scores differ from one row per choice by rounding; the layout check must still
    accept the path through the opening's past."""
    from paw.evaluation.scorer import Scorer
    from paw.models import load_model, load_tokenizer

    model, tokenizer = load_model(tiny_llama, "bfloat16"), load_tokenizer(tiny_llama)
    grouped = _grouped(model, tokenizer, 12)
    want = Scorer(model, share_context=False).score(grouped)
    with Fed() as fed:
        scorer = Scorer(model, token_budget=128, row_tokens=32)
        got = scorer.score(grouped)
    assert scorer.share_context
    assert max(abs(a - b) for a, b in zip(got, want)) < 0.25 * max(abs(w) for w in want)
    from paw.evaluation import scorer as scorer_module

    monkeypatch.setattr(scorer_module, "shared_opening", lambda requests: 0)
    with Fed() as whole_rows:
        Scorer(model, token_budget=128, row_tokens=32).score(grouped)
    assert fed.count < whole_rows.count
