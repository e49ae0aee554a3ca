"""Tokenisation as lm-eval splits it, the answer-only loss mask, and batches that depend only on (seed, k)."""

from __future__ import annotations

import torch

from paw.models import load_tokenizer
from paw.training.examples import IGNORE, Example, StepBatches, collate, encode_pair, make_example


def test_encode_pair_matches_lm_eval_rule(tiny_llama):
    tok = load_tokenizer(tiny_llama)
    context, answer = "Question: what is red?\nAnswer: ", "apple"
    ctx_ids, cont_ids = encode_pair(tok, context, answer)
    # The trailing space moves to the continuation; the pair re-joins into enc(context + answer).
    assert ctx_ids == tok("Question: what is red?\nAnswer:")["input_ids"]
    assert ctx_ids + cont_ids == tok(context + answer)["input_ids"]
    assert ctx_ids[0] == tok.bos_token_id  # llama's tokenizer adds BOS; the context keeps it


def test_loss_mask_covers_exactly_the_answer_tokens(tiny_qwen2):
    tok = load_tokenizer(tiny_qwen2)
    ex = make_example(tok, "Question: which bird?\nAnswer:", " green water", max_length=512)
    _, cont_ids = encode_pair(tok, "Question: which bird?\nAnswer:", " green water")
    short = Example(ex.ids[-3:], 1)
    batch = collate([ex, short], pad_id=tok.pad_token_id)
    targets = batch["targets"]
    n = len(ex.ids) - 1
    assert targets[0, :n].tolist()[-len(cont_ids) :] == cont_ids
    assert (targets[0, : n - len(cont_ids)] == IGNORE).all()
    # Position t predicts token t+1: the inputs are the sequence without its last token.
    assert batch["input_ids"][0, :n].tolist() == list(ex.ids[:-1])
    # The shorter row is padded on the right, masked, and carries loss only on its one answer token.
    assert batch["attention_mask"][1].tolist() == [1, 1] + [0] * (n - 2)
    assert (targets[1] != IGNORE).sum() == 1 and targets[1, 1] == short.ids[-1]


def test_truncation_cuts_the_question_start_and_keeps_the_answer(tiny_llama):
    tok = load_tokenizer(tiny_llama)
    context = "Question: " + "the old river and the cold mountain " * 20 + "\nAnswer:"
    ex = make_example(tok, context, " fire", max_length=16)
    _, cont_ids = encode_pair(tok, context, " fire")
    assert len(ex.ids) == 17 and list(ex.ids[-len(cont_ids) :]) == cont_ids and ex.n_answer == len(cont_ids)


def test_batch_k_depends_only_on_seed_and_k():
    examples = [Example((1, 2, i + 3), 1) for i in range(10)]
    fresh = iter(StepBatches(examples, batch_size=4, seed=3, pad_id=0))
    first = [next(fresh) for _ in range(6)]
    resumed = iter(StepBatches(examples, batch_size=4, seed=3, pad_id=0, position=lambda: (4, 0, 1)))
    assert torch.equal(next(resumed)["targets"], first[4]["targets"])
    other_seed = next(iter(StepBatches(examples, batch_size=4, seed=4, pad_id=0)))
    assert not torch.equal(other_seed["targets"], first[0]["targets"])
    # Every example is used once per pass over the data (10 examples, batches of 4: positions 0..9 then 10..19).
    seen = torch.cat([b["targets"][:, 1] for b in first[:5]]).tolist()
    assert sorted(seen[:10]) == list(range(3, 13)) and sorted(seen[10:20]) == list(range(3, 13))


def test_ranks_get_disjoint_shards_of_the_same_global_batch():
    examples = [Example((1, i + 2), 1) for i in range(16)]
    single = next(iter(StepBatches(examples, 8, seed=0, pad_id=0)))["targets"][:, 0].tolist()
    rank0 = next(iter(StepBatches(examples, 4, seed=0, pad_id=0, position=lambda: (0, 0, 2))))["targets"][:, 0]
    rank1 = next(iter(StepBatches(examples, 4, seed=0, pad_id=0, position=lambda: (0, 1, 2))))["targets"][:, 0]
    assert rank0.tolist() + rank1.tolist() == single


def test_training_sequences_equal_the_evaluation_requests(tiny_models):
    """The LoRA is trained on exactly the token sequences the evaluation scores (same split, BOS, truncation)."""
    from paw.data import Item
    from paw.evaluation.requests import build_requests

    items = [
        Item(0, ["Question: what grows?\nAnswer:"] * 2, [" tree", " stone"], 0, ["tree", "stone"]),
        Item(1, ["The river is ", "The river is "], ["cold", "warm light"], 1, ["cold", "warm light"]),
        Item(2, ["", ""], ["Fire and water", "Bird"], 0, ["Fire and water", "Bird"]),
        Item(3, ["the old " * 30] * 2, [" fish", " gold"], 0, ["fish", "gold"]),
    ]
    for arch in ("llama", "qwen2"):
        tok = load_tokenizer(tiny_models[arch])
        for item, requests in zip(items, build_requests(tok, items, max_length=24)):
            for context, continuation, request in zip(item.contexts, item.continuations, requests):
                ex = make_example(tok, context, continuation, max_length=24)
                assert list(ex.ids) == request.input_ids + request.targets[-1:], (arch, context, continuation)
                assert ex.n_answer == request.n_scored
