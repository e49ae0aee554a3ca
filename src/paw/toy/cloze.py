"""How well a toy base knows the world's facts: cloze accuracy in the corpus's own phrasing.

For each fact, the context is its first corpus phrasing up to the value ("The zix lives in") and the choices are
the value plus the same three distractors its question uses; the score of a choice is the summed log-probability of
" " + choice after the context (lm-eval's loglikelihood rule). Chance is 1/4.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerFast


def continuation_logprobs(
    model: "PreTrainedModel", tokenizer: "PreTrainedTokenizerFast", pairs: list[tuple[str, str]], batch_size: int = 256
) -> list[float]:
    """Sum of log p(continuation | context) for each (context, continuation); tokenised as enc(ctx + cont)."""
    import torch

    encoded = []
    for context, continuation in pairs:
        ctx = tokenizer(context)["input_ids"]
        whole = tokenizer(context + continuation)["input_ids"]
        encoded.append((whole, len(whole) - len(ctx)))
    pad = tokenizer.pad_token_id
    scores: list[float] = []
    with torch.no_grad():
        for k in range(0, len(encoded), batch_size):
            chunk = encoded[k : k + batch_size]
            width = max(len(ids) for ids, _ in chunk)
            ids = torch.tensor([seq + [pad] * (width - len(seq)) for seq, _ in chunk])
            mask = torch.tensor([[1] * len(seq) + [0] * (width - len(seq)) for seq, _ in chunk])
            logprobs = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits.float(), dim=-1)
            for row, (seq, n_cont) in enumerate(chunk):
                positions = torch.arange(len(seq) - n_cont, len(seq))
                targets = torch.tensor(seq[len(seq) - n_cont :])
                scores.append(logprobs[row, positions - 1, targets].sum().item())
    return scores


def choice_accuracy(
    model: "PreTrainedModel", tokenizer: "PreTrainedTokenizerFast", items: list[tuple[str, list[str], int]]
) -> float:
    """Share of (context, choices, gold index) items whose gold choice scores highest (ties: first choice wins)."""
    pairs = [(context, " " + choice) for context, choices, _ in items for choice in choices]
    scores = continuation_logprobs(model, tokenizer, pairs)
    correct, k = 0, 0
    for _, choices, gold in items:
        chunk = scores[k : k + len(choices)]
        correct += int(chunk.index(max(chunk)) == gold)
        k += len(choices)
    return correct / max(1, len(items))
