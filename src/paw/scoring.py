"""lm-eval 0.4.13's loglikelihood, written once: how a (context, continuation) pair becomes tokens, how a causal
LM's final logits become the continuation's log-probability, and which choice wins.

    from paw.scoring import collate, make_examples, sequence_logprobs
    batch = collate(make_examples(tokenizer, [("Question: …\\nAnswer:", " water")], max_length), pad_id)
    sums, counts = sequence_logprobs(model, batch)  # per pair: sum of continuation-token log-probs, their count

Encoding (lm-eval >= 0.4.9.2's `_encode_pair` and empty-context rule): the context's trailing whitespace moves to
the front of the continuation; whole = enc(context + continuation), ctx = enc(context), cont = whole[len(ctx):];
`enc` uses the tokenizer's own special-token default (Llama/Gemma add BOS, Qwen adds nothing) unless the text
already starts with the prefix token's text; an empty context is the prefix token (BOS, else EOS). A sequence
longer than max_length + 1 tokens is cut on the left; the model reads all of it but the last token.

Scoring: the output head runs only where a continuation token is predicted (the only logits a score reads; with a
large vocabulary the head is most of a small model's cost), then Gemma 2's final-logit softcap, then the
full-vocabulary log-softmax; a choice's loglikelihood is the sum over its continuation tokens. acc is the argmax
of the loglikelihoods, acc_norm that of ll / len(choice text) in characters; ties go to the first choice.

The evaluation's packed scorer (paw.evaluation.scorer) uses the encoding, `final_logits` and `token_logprobs`
(on a CPU `head_logprobs_in`, their in-place form); training's loss and validation, distillation's student and
the toy world's cloze check use `sequence_logprobs`.
torch is imported inside the functions, so importing this module is cheap and cycle-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

IGNORE = -100  # target of a position that is not scored (context, padding)
TOKENIZER_INFINITY = 1000000000000000019884624838656  # transformers' model_max_length when a tokenizer sets none
DEFAULT_MAX_LENGTH = 2048


@dataclass(frozen=True)
class Example:
    """One sequence: `ids` = context then continuation tokens (cut on the left to fit); the last `n_answer` are
    scored, each predicted from the position before it."""

    ids: tuple[int, ...]
    n_answer: int


# ---- encoding ----
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
    """The token an empty context becomes: BOS when the tokenizer has one (even if it never adds it), else EOS."""
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def split_trailing_space(context: str, continuation: str) -> tuple[str, str]:
    """Move the context's trailing whitespace to the front of the continuation (a blank context stays as it is)."""
    spaces = len(context) - len(context.rstrip())
    if spaces and context.strip():
        return context[:-spaces], context[-spaces:] + continuation
    return context, continuation


def encode_pairs(
    tokenizer: "PreTrainedTokenizerBase", pairs: Sequence[tuple[str, str]]
) -> list[tuple[list[int], list[int]]]:
    """(context ids, continuation ids) per (context, continuation), lm-eval's way, in a few batched tokenizer calls."""
    prefix_id = prefix_token_id(tokenizer)
    pairs = [split_trailing_space(context, continuation) for context, continuation in pairs]
    texts = sorted({text for context, cont in pairs if context for text in (context, context + cont)})
    encoded = _encode_all(tokenizer, texts, tokenizer.decode(prefix_id))
    bare = _encode_all(tokenizer, sorted({cont for context, cont in pairs if not context}), None)
    out: list[tuple[list[int], list[int]]] = []
    for context, continuation in pairs:
        if context:
            ctx = encoded[context]
            out.append((list(ctx), encoded[context + continuation][len(ctx):]))
        else:
            cont = bare[continuation]
            out.append(([prefix_id], list(cont)) if cont[:1] != [prefix_id] else (cont[:1], cont[1:]))
    return out


def encode_pair(tokenizer: "PreTrainedTokenizerBase", context: str, continuation: str) -> tuple[list[int], list[int]]:
    """(context ids, continuation ids) of one pair: `encode_pairs` for a single (context, continuation)."""
    return encode_pairs(tokenizer, [(context, continuation)])[0]


def _encode_all(tokenizer, texts: list[str], prefix_text: str | None) -> dict[str, list[int]]:
    """enc() of each text. With `prefix_text`, a text already starting with it gets no special tokens (lm-eval's
    `has_bos_prefix`), the others the tokenizer's own; without, no text gets special tokens (a bare continuation)."""
    if prefix_text is None:
        groups = ((texts, False),)
    else:
        groups = (([t for t in texts if not t.startswith(prefix_text)], True),
                  ([t for t in texts if t.startswith(prefix_text)], False))
    out: dict[str, list[int]] = {}
    for group, add_special in groups:
        if group:
            out.update(zip(group, tokenizer(group, add_special_tokens=add_special)["input_ids"]))
    return out


def window(context_ids: list[int], continuation_ids: list[int], max_length: int) -> Example:
    """lm-eval's window: the last max_length + 1 tokens of context + continuation (the question start is cut);
    every continuation token that still has a token before it is scored."""
    ids = (context_ids + continuation_ids)[-(max_length + 1):]
    return Example(tuple(ids), min(len(continuation_ids), len(ids) - 1))


def make_examples(tokenizer: "PreTrainedTokenizerBase", pairs: Sequence[tuple[str, str]],
                  max_length: int) -> list[Example]:
    """One `Example` per (context, continuation)."""
    return [window(ctx, cont, max_length) for ctx, cont in encode_pairs(tokenizer, pairs)]


def collate(examples: Sequence[Example], pad_id: int) -> dict[str, "torch.Tensor"]:
    """Right-padded inputs, attention mask, and targets (IGNORE except on scored tokens), padded to the longest."""
    import torch

    width = max(len(ex.ids) for ex in examples) - 1
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    targets = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    for row, ex in enumerate(examples):
        n = len(ex.ids) - 1
        ids = torch.tensor(ex.ids, dtype=torch.long)
        input_ids[row, :n] = ids[:-1]
        attention[row, :n] = 1
        targets[row, n - ex.n_answer : n] = ids[-ex.n_answer :]
    return {"input_ids": input_ids, "attention_mask": attention, "targets": targets}


# ---- loglikelihood ----
def softcap(config) -> float | None:
    """Gemma 2's final-logit softcap (None for models without one)."""
    return getattr(config, "final_logit_softcapping", None)


def final_logits(head, hidden: "torch.Tensor", cap: float | None) -> "torch.Tensor":
    """The model's own final logits at `hidden`, in float32: the output head, then the softcap that the model's
    forward applies (scores must equal that forward's)."""
    import torch

    logits = head(hidden).float()
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def token_logprobs(logits: "torch.Tensor", rows: "torch.Tensor", targets: "torch.Tensor") -> "torch.Tensor":
    """log p(targets[k]) under logits row rows[k]: lm-eval's full-vocabulary log-softmax, then the target's entry."""
    import torch

    return torch.log_softmax(logits, dim=-1)[rows, targets]


def head_logprobs_in(buffer: "torch.Tensor", head, hidden: "torch.Tensor", cap: float | None) -> "torch.Tensor":
    """`final_logits` then the full-vocabulary log-softmax, computed in place in `buffer` (float32, at least
    rows × vocabulary) and returned as its first rows: the same values, bit for bit, without a fresh logits tensor
    per call. On a CPU each fresh one of a few hundred MB is page-faulted in anew (measured: 16% of the output
    head's time on Qwen2.5-Coder-0.5B). Inference only: autograd cannot follow products written into a buffer."""
    import torch

    out = buffer[:len(hidden)]
    if type(head) is torch.nn.Linear and head.weight.dtype == out.dtype == hidden.dtype:
        if head.bias is None:
            torch.mm(hidden, head.weight.t(), out=out)
        else:
            torch.addmm(head.bias, hidden, head.weight.t(), out=out)
    else:
        out.copy_(head(hidden))
    if cap:
        out.div_(cap).tanh_().mul_(cap)
    return torch.log_softmax(out, dim=-1, out=out)


def causal_lm(model):
    """The transformers CausalLM inside a PeftModel (LoRA layers are injected into it in place)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def answer_logprobs(model, batch: dict[str, "torch.Tensor"]) -> tuple["torch.Tensor", "torch.Tensor"]:
    """Log-probabilities of the scored tokens of a `collate` batch, flattened: (logprobs [K], row of each [K]).

    Runs the decoder over the whole batch, then the output head only on the K positions that predict a scored
    token. Differentiable: training's loss is built on it."""
    import torch

    lm = causal_lm(model)
    hidden = lm.get_decoder()(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    targets = batch["targets"]
    mask = targets != IGNORE
    logits = final_logits(lm.get_output_embeddings(), hidden[mask], softcap(lm.config))
    picked = targets[mask]
    # x[t] - logsumexp(x) is token_logprobs' value up to float rounding; this form keeps trained adapters and the
    # recorded training losses bit-identical to those already produced with it.
    logprobs = logits.gather(-1, picked.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)
    rows = torch.arange(targets.shape[0], device=targets.device).unsqueeze(1).expand_as(targets)[mask]
    return logprobs, rows


def sequence_logprobs(model, batch: dict[str, "torch.Tensor"]) -> tuple["torch.Tensor", "torch.Tensor"]:
    """(sum of scored-token log-probs per row [B], scored tokens per row [B]): lm-eval's loglikelihood."""
    import torch

    logprobs, rows = answer_logprobs(model, batch)
    n_rows = batch["targets"].shape[0]
    sums = torch.zeros(n_rows, dtype=logprobs.dtype, device=logprobs.device).index_add_(0, rows, logprobs)
    counts = torch.zeros(n_rows, dtype=torch.long, device=rows.device).index_add_(0, rows, torch.ones_like(rows))
    return sums, counts


# ---- choices ----
def argmax(values: Sequence[float]) -> int:
    """Index of the largest value; ties go to the first (lm-eval's np.argmax)."""
    best = 0
    for i, value in enumerate(values):
        if value > values[best]:
            best = i
    return best


def char_lengths(choice_texts: Sequence[str]) -> list[int]:
    """What acc_norm divides each choice's loglikelihood by: its text's length in characters (1 for an empty one)."""
    return [len(text) or 1 for text in choice_texts]


def per_character(lls: Sequence[float], choice_texts: Sequence[str]) -> list[float]:
    """Each choice's loglikelihood divided by its text's length in characters: what acc_norm ranks."""
    return [ll / n for ll, n in zip(lls, char_lengths(choice_texts), strict=True)]


def predict(lls: Sequence[float], choice_texts: Sequence[str]) -> tuple[int, int]:
    """(pred, pred_norm) of one item: the acc and acc_norm choices (ll / characters of the choice text)."""
    return argmax(lls), argmax(per_character(lls, choice_texts))
