"""Tokenisation follows lm-eval 0.4.13: whitespace move, the tokenizer's own BOS default, left truncation."""

from __future__ import annotations

from paw.data import Item
from paw.evaluation.requests import build_requests, resolve_max_length


def _item(context, continuations):
    return Item(0, [context] * len(continuations), continuations, 0, [c.strip() for c in continuations])


def test_bos_added_for_llama_style_and_not_for_qwen_style(tiny_llama, tiny_qwen2):
    from paw.models import load_tokenizer

    for model_dir, expects_bos in ((tiny_llama, True), (tiny_qwen2, False)):
        tok = load_tokenizer(model_dir)
        (request,), = build_requests(tok, [_item("Question: the sun\nAnswer:", [" water"])], 256)
        assert (request.input_ids[0] == tok.bos_token_id) == expects_bos
        whole = tok("Question: the sun\nAnswer: water")["input_ids"]
        ctx = tok("Question: the sun\nAnswer:")["input_ids"]
        assert request.targets == whole[len(ctx):]
        assert request.input_ids == whole[:-1]


def test_trailing_context_whitespace_moves_to_the_continuation(tiny_llama):
    from paw.models import load_tokenizer

    tok = load_tokenizer(tiny_llama)
    (moved,), = build_requests(tok, [_item("the red river ", ["stone"])], 256)
    (plain,), = build_requests(tok, [_item("the red river", [" stone"])], 256)
    assert moved == plain


def test_long_inputs_are_cut_on_the_left(tiny_qwen2):
    from paw.models import load_model, load_tokenizer

    tok = load_tokenizer(tiny_qwen2)
    long_context = "the red river and the blue stone " * 60
    (request,), = build_requests(tok, [_item(long_context, [" water"])], 32)
    assert len(request.input_ids) == 32
    assert resolve_max_length(load_model(tiny_qwen2).config, tok) == 256


def test_empty_context_uses_the_prefix_token(tiny_qwen2):
    from paw.models import load_tokenizer

    tok = load_tokenizer(tiny_qwen2)
    (request,), = build_requests(tok, [_item("", [" water"])], 256)
    # lm-eval's prefix token: the tokenizer's BOS id when it has one (even if it never adds it), else EOS.
    expected = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    assert request.input_ids[0] == expected and request.targets == tok(" water", add_special_tokens=False)["input_ids"]
