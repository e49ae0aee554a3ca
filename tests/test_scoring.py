"""paw.scoring: lm-eval's request encoding and loglikelihood, pinned on the tiny models.

The encoding is checked against the tokenizer called by hand; the loglikelihoods of both scorers built on the
module (the direct one training and the toy check use, the evaluation's packed one) against a plain full forward
of each sequence alone, whose logits the model itself soft-caps.
"""

from __future__ import annotations

import pytest
import torch

from paw.data import Item
from paw.scoring import (
    Example,
    collate,
    encode_pair,
    encode_pairs,
    make_examples,
    per_character,
    predict,
    sequence_logprobs,
    window,
)

PAIRS = [
    ("Question: what grows near the river?\nAnswer:", " tree"),
    ("Question: what grows near the river?\nAnswer:", " cold stone"),
    ("The bird is ", "green"),
    ("", "Fire and water"),
]


def _tokenizer_and_model(model_dir):
    from paw.models import load_model, load_tokenizer

    return load_tokenizer(model_dir), load_model(model_dir).eval()


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_encoding_follows_lm_eval(arch, tiny_models):
    tok, _ = _tokenizer_and_model(tiny_models[arch])
    context, answer = PAIRS[0]
    whole = tok(context + answer)["input_ids"]
    ctx = tok(context)["input_ids"]
    assert encode_pair(tok, context, answer) == (ctx, whole[len(ctx):])
    assert (ctx[0] == tok.bos_token_id) == (arch == "llama")  # the tokenizer's own BOS default
    # Trailing context whitespace moves to the continuation.
    assert encode_pair(tok, "The bird is ", "green") == encode_pair(tok, "The bird is", " green")
    # An empty context is the prefix token (BOS, else EOS); the continuation then gets no special tokens.
    prefix = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    assert encode_pair(tok, "", "Fire and water") == ([prefix], tok("Fire and water", add_special_tokens=False)
                                                      ["input_ids"])  # fmt: skip
    # A text already starting with the prefix token's text gets no second one.
    marked = tok.decode(prefix) + "The bird is"
    assert encode_pair(tok, marked, " green")[0] == tok(marked, add_special_tokens=False)["input_ids"]
    # Batched encoding equals one pair at a time.
    assert encode_pairs(tok, PAIRS) == [encode_pair(tok, c, a) for c, a in PAIRS]


def test_window_cuts_the_context_on_the_left():
    assert window([1, 2, 3, 4], [5, 6], max_length=3) == Example((3, 4, 5, 6), 2)
    assert window([1], [5, 6, 7], max_length=2) == Example((5, 6, 7), 2)  # the first answer token has no context
    assert window([1, 2], [5], max_length=8) == Example((1, 2, 5), 1)


def _full_forward_lls(model, examples: list[Example]) -> list[float]:
    """Each sequence alone through the model's own forward (which soft-caps Gemma 2's logits), full vocabulary."""
    out = []
    for ex in examples:
        ids = torch.tensor([ex.ids[:-1]])
        with torch.no_grad():
            logprobs = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
        n = len(ex.ids) - 1
        targets = torch.tensor(ex.ids[-ex.n_answer:])
        out.append(float(logprobs[torch.arange(n - ex.n_answer, n), targets].sum()))
    return out


def _packed_lls(model, tok, pairs) -> list[float]:
    """The evaluation's scorer (shared contexts, head on scored positions only) on the same pairs."""
    from paw.evaluation.requests import build_requests
    from paw.evaluation.scorer import Scorer

    items = [Item(0, [c for c, _ in pairs[:2]], [a for _, a in pairs[:2]], 0, ["tree", "cold stone"])]
    items += [Item(i, [c], [a], 0, [a.strip()]) for i, (c, a) in enumerate(pairs[2:], start=1)]
    return Scorer(model, share_context=True).score(build_requests(tok, items, max_length=256))


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gemma2"])
def test_both_scorers_equal_a_full_forward(arch, tiny_models):
    tok, model = _tokenizer_and_model(tiny_models[arch])
    examples = make_examples(tok, PAIRS, max_length=256)
    with torch.no_grad():
        sums, counts = sequence_logprobs(model, collate(examples, tok.pad_token_id))
    expected = _full_forward_lls(model, examples)
    assert counts.tolist() == [ex.n_answer for ex in examples]
    assert sums.tolist() == pytest.approx(expected, abs=1e-4)
    assert _packed_lls(model, tok, PAIRS) == pytest.approx(expected, abs=1e-4)


def test_the_softcap_is_applied_once(tiny_gemma2):
    tok, model = _tokenizer_and_model(tiny_gemma2)
    cap = 1.0  # small, so that capping once, twice or not at all give clearly different scores
    model.config.final_logit_softcapping = cap
    examples = make_examples(tok, PAIRS, max_length=256)
    batch = collate(examples, tok.pad_token_id)
    with torch.no_grad():
        sums, _ = sequence_logprobs(model, batch)
        raw = model.lm_head(model.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
                            .last_hidden_state).float()  # fmt: skip
    once = torch.tanh(raw / cap) * cap
    twice = torch.tanh(once / cap) * cap
    mask = batch["targets"] != -100
    targets = batch["targets"].clamp(min=0).unsqueeze(-1)

    def summed(logits):
        return (torch.log_softmax(logits, -1).gather(-1, targets).squeeze(-1) * mask).sum(1)

    assert torch.allclose(sums, summed(once), atol=1e-4)
    assert sums.tolist() == pytest.approx(_full_forward_lls(model, examples), abs=1e-4)
    assert _packed_lls(model, tok, PAIRS) == pytest.approx(sums.tolist(), abs=1e-4)
    assert (sums - summed(twice)).abs().min() > 1e-2 and (sums - summed(raw)).abs().min() > 1e-2


# sequence_logprobs of PAIRS on the tiny Llama (seed 0), float32 on CPU: they move when the encoding or the
# loglikelihood changes. Recorded from this test (training validation's scores of the same pairs before they moved
# into paw.scoring were the same to the last bit).
GOLDEN_LLAMA_LLS = [-14.725088, -38.845142, -19.684658, -55.838619]


def test_golden_loglikelihoods_of_the_tiny_llama(tiny_llama):
    tok, model = _tokenizer_and_model(tiny_llama)
    with torch.no_grad():
        sums, _ = sequence_logprobs(model, collate(make_examples(tok, PAIRS, max_length=256), tok.pad_token_id))
    assert sums.tolist() == pytest.approx(GOLDEN_LLAMA_LLS, abs=1e-4)


def test_acc_and_acc_norm_choices():
    assert predict([-1.0, -1.0, -2.0], ["a", "bb", "c"]) == (0, 1)  # ties: first; normed by characters
    assert predict([-3.0, -4.0], ["abc", "abcdefgh"]) == (0, 1)


def test_per_character_divides_each_loglikelihood_by_its_choice_length():
    assert per_character([-2.0, -3.0, -0.5], ["ab", "abc", ""]) == [-1.0, -1.0, -0.5]  # an empty text counts as 1
    with pytest.raises(ValueError):
        per_character([-1.0, -2.0], ["one choice"])  # a loglikelihood per choice, never silently truncated


@pytest.mark.parametrize("dtype, bias, cap", [("float32", False, None), ("float32", True, 30.0),
                                              ("bfloat16", False, None)])
def test_head_logprobs_in_a_reused_buffer_equal_the_plain_log_softmax_bit_for_bit(dtype, bias, cap):
    from paw.scoring import final_logits, head_logprobs_in

    torch.manual_seed(0)
    head = torch.nn.Linear(16, 50, bias=bias).to(getattr(torch, dtype))
    buffer = torch.full((8, 50), float("nan"))  # stale contents must not leak into the result
    with torch.inference_mode():  # the scorer's context: the in-place products take no gradient
        for rows in (5, 8, 3):
            hidden = torch.randn(rows, 16).to(head.weight.dtype)
            want = torch.log_softmax(final_logits(head, hidden, cap), dim=-1)
            got = head_logprobs_in(buffer, head, hidden, cap)
            assert got.shape == (rows, 50) and got.data_ptr() == buffer.data_ptr()
            assert torch.equal(got, want)
