"""Tokenise items into loglikelihood requests exactly as lm-eval 0.4.13's HFLM does.

Rules followed (lm-eval >= 0.4.9.2): the context's trailing whitespace moves to the front of the continuation;
whole = enc(context + continuation), ctx = enc(context), cont = whole[len(ctx):]; `enc` uses the tokenizer's own
special-token default (Llama/Gemma add BOS, Qwen adds nothing) unless the text already starts with the prefix
token's text; an empty context is the prefix token (BOS, else EOS); sequences longer than max_length + 1 are cut on
the left. Each request becomes the model input `(ctx + cont)[-(max_length+1):][:-1]` and the scored targets, the
last len(cont) tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from paw.data import Item
from paw.errors import PawError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

TOKENIZER_INFINITY = 1000000000000000019884624838656
DEFAULT_MAX_LENGTH = 2048


@dataclass(frozen=True)
class Request:
    """One choice of one item: model input tokens and the targets scored at the end of it."""

    input_ids: list[int]  # what the model reads (the last full token is never input)
    n_scored: int  # the last n_scored positions of input_ids predict `targets`
    targets: list[int]


def resolve_max_length(config, tokenizer) -> int:
    """lm-eval's rule: the (text) config's n_positions / max_position_embeddings / n_ctx, else the tokenizer's."""
    cfg = getattr(config, "text_config", None) or config
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(cfg, attr, None)
        if value is not None:
            return int(value)
    limit = getattr(tokenizer, "model_max_length", None)
    if limit is not None and limit != TOKENIZER_INFINITY:
        return int(limit)
    return DEFAULT_MAX_LENGTH


def prefix_token_id(tokenizer: "PreTrainedTokenizerBase") -> int:
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def build_requests(
    tokenizer: "PreTrainedTokenizerBase", items: Sequence[Item], max_length: int
) -> list[list[Request]]:
    """One list of requests (one per choice) per item; all strings are tokenised in a few batched calls."""
    prefix_id = prefix_token_id(tokenizer)
    prefix_text = tokenizer.decode(prefix_id)
    pairs: list[tuple[str, str]] = []
    for item in items:
        for context, continuation in zip(item.contexts, item.continuations, strict=True):
            spaces = len(context) - len(context.rstrip())
            if spaces and context.strip():
                context, continuation = context[:-spaces], context[-spaces:] + continuation
            pairs.append((context, continuation))
    texts = sorted({text for context, cont in pairs if context for text in (context, context + cont)})
    encoded = _encode_all(tokenizer, texts, prefix_text)
    bare = _encode_all(tokenizer, sorted({cont for context, cont in pairs if not context}), None, special=False)
    requests: list[Request] = []
    for context, continuation in pairs:
        if context:
            ctx = encoded[context]
            cont = encoded[context + continuation][len(ctx):]
        else:
            cont = bare[continuation]
            ctx, cont = ([prefix_id], cont) if cont[0] != prefix_id else (cont[:1], cont[1:])
        if len(cont) > max_length:
            raise PawError(
                f"a continuation of {len(cont)} tokens ({continuation[:40]!r}…) is longer than the model's maximum "
                f"length {max_length} — expected continuations that fit the model"
            )
        full = (ctx + cont)[-(max_length + 1):]
        requests.append(Request(input_ids=full[:-1], n_scored=len(cont), targets=full[len(full) - len(cont):]))
    grouped, start = [], 0
    for item in items:
        grouped.append(requests[start:start + len(item.contexts)])
        start += len(item.contexts)
    return grouped


def _encode_all(tokenizer, texts: list[str], prefix_text: str | None, special: bool = True) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    if not texts:
        return out
    # lm-eval encodes a text that already starts with the prefix token's text without special tokens.
    plain = [t for t in texts if not (special and prefix_text and t.startswith(prefix_text))]
    raw = [t for t in texts if special and prefix_text and t.startswith(prefix_text)]
    for group, add_special in ((plain, special), (raw, False)):
        if group:
            ids = tokenizer(group, add_special_tokens=add_special)["input_ids"]
            out.update(zip(group, ids))
    return out
