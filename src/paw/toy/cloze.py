"""How well a toy base knows the world's facts: cloze accuracy in the corpus's own phrasing.

For each fact, the context is its first corpus phrasing up to the value ("The zix lives in") and the choices are
the value plus the same three distractors its question uses; the score of a choice is the summed log-probability of
" " + choice after the context, encoded and scored by paw.scoring (lm-eval's loglikelihood rule). Chance is 1/4.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from paw.scoring import argmax, collate, make_examples, resolve_max_length, sequence_logprobs

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerFast


def continuation_logprobs(
    model: "PreTrainedModel", tokenizer: "PreTrainedTokenizerFast", pairs: list[tuple[str, str]], batch_size: int = 256
) -> list[float]:
    """Sum of log p(continuation | context) for each (context, continuation)."""
    import torch

    examples = make_examples(tokenizer, pairs, resolve_max_length(model.config, tokenizer))
    scores: list[float] = []
    with torch.no_grad():
        for k in range(0, len(examples), batch_size):
            sums, _ = sequence_logprobs(model, collate(examples[k : k + batch_size], tokenizer.pad_token_id))
            scores += sums.tolist()
    return scores


def choice_accuracy(
    model: "PreTrainedModel", tokenizer: "PreTrainedTokenizerFast", items: list[tuple[str, list[str], int]]
) -> float:
    """Share of (context, choices, gold index) items whose gold choice scores highest (ties: first choice wins)."""
    pairs = [(context, " " + choice) for context, choices, _ in items for choice in choices]
    scores = continuation_logprobs(model, tokenizer, pairs)
    correct, k = 0, 0
    for _, choices, gold in items:
        correct += int(argmax(scores[k : k + len(choices)]) == gold)
        k += len(choices)
    return correct / max(1, len(items))
