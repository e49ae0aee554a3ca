"""Run a causal LM over packed rows and return each request's loglikelihood.

Speed comes from four choices: each question's choices are one token trie, so every shared prefix is computed
once (see paw.packing); several questions share a row, and rows of equal length make a batch, so almost nothing
is padding; the output head runs only on the hidden states of distinct scored positions — with a 262k vocabulary
the head is most of a small model's cost — and so does the last layer's MLP (paw.evaluation.last_layer).
Values equal lm-eval's: the final logits, softcap and log-softmax are paw.scoring's, summed over the continuation
tokens in float64.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Callable

from paw.evaluation.last_layer import last_dense_mlp, mlp_on_rows
from paw.evaluation.requests import Request
from paw.packing import (Row, attention_masks, layouts_agree, pack_questions, plain_rows, row_tensors,
                          token_budget_batches, trie_row)
from paw.scoring import final_logits, softcap, token_logprobs

if TYPE_CHECKING:
    import torch

HEAD_CHUNK_ROWS = 256  # scored positions per output-head call: bounds the (rows × vocab) logits tensor
# Tokens per packed row (a longer question has a row of its own). Attention costs rows × length², its masked part
# included; at 128 it is a few per cent of a 0.5B model's work, and 128-512 all scored alike on Qwen2.5-Coder-0.5B.
ROW_TOKENS = 128


def numbered(grouped: list[list[Request]]) -> list[list[tuple[int, Request]]]:
    """Each question's requests with their numbers in item-then-choice order (the order of the scores)."""
    questions, first = [], 0
    for requests in grouped:
        questions.append(list(enumerate(requests, first)))
        first += len(requests)
    return questions


class Scorer:
    """Loglikelihoods of requests under one model. `share_context=False` scores each choice as its own row (the
    layout for an architecture that ignores custom attention masks)."""

    def __init__(self, model, share_context: bool = True, token_budget: int = 4096, row_tokens: int = ROW_TOKENS):
        self.model = model
        self.share_context = share_context
        self.token_budget = token_budget
        self.row_tokens = row_tokens
        self.backbone = getattr(model, model.base_model_prefix)
        self.head = model.get_output_embeddings()
        self.softcap = softcap(model.config)
        self.last_mlp = last_dense_mlp(self.backbone)  # run only where the head reads (paw.evaluation.last_layer)

    @property
    def device(self) -> "torch.device":
        return next(self.model.parameters()).device

    def rows(self, questions: list[list[tuple[int, Request]]]) -> list[Row]:
        """Questions (each its numbered requests) as model rows: packed tries, or one row per choice."""
        if self.share_context:
            return pack_questions(questions, self.row_tokens)
        return [row for question in questions for number, request in question
                for row in plain_rows([request], number)]

    def score(self, grouped: list[list[Request]], on_batch: Callable[[set[int]], None] | None = None) -> list[float]:
        """Loglikelihood per request, flattened in item-then-choice order. `on_batch` gets the numbers (in that
        order) of the requests each batch finished: batches go longest first, so items finish out of order."""
        import torch

        questions = numbered(grouped)
        lls = torch.zeros(sum(map(len, questions)), dtype=torch.float64)
        done: set[int] = set()
        if self.share_context:
            checked = self._check_packing(questions, lls)
            if checked is None:
                print("note: this architecture ignores custom attention masks; scoring each choice separately",
                      file=sys.stderr, flush=True)  # stderr: stdout carries only the results
                self.share_context = False
            else:
                done = checked
                if on_batch is not None and done:
                    on_batch({number for q in done for number, _ in questions[q]})
        rows = self.rows([q for i, q in enumerate(questions) if i not in done])
        with torch.inference_mode():
            for batch in token_budget_batches(rows, self.token_budget):
                self._score_batch(batch, lls)
                if on_batch is not None:
                    on_batch({s[2] for row in batch for s in row.scored})
        return lls.tolist()

    def shared_path_verified(self, grouped: list[list[Request]]) -> bool:
        """Whether this model honours the packed layout (see `_check_packing`)."""
        import torch

        questions = numbered(grouped)
        return self._check_packing(questions, torch.zeros(sum(map(len, questions)), dtype=torch.float64)) is not None

    def _check_packing(self, questions: list[list[tuple[int, Request]]], lls: "torch.Tensor") -> set[int] | None:
        """Score two questions packed into one row and one row per choice: an architecture that does not honour
        the packed layout's masks (position ids, 4D or per-layer-type masks) gives other values, and must not be
        packed (None). Otherwise the packed scores are kept in `lls` and the two questions' indices returned, so
        the check costs only the per-choice rows.

        The first question has choices of two tokens or more (a choice that saw another would change from its
        second token on); the second shows whether a question sees the one before it in the row. Each is the
        cheapest such question, counted in per-choice tokens."""
        import torch

        if sum(map(len, questions)) < 2:
            return set()

        def cost(i: int) -> int:
            return sum(len(request.input_ids) for _, request in questions[i])

        multi = [i for i, q in enumerate(questions) if len(q) > 1] or [i for i, q in enumerate(questions) if q]
        sensitive = [i for i in multi if min(len(r.targets) for _, r in questions[i]) >= 2]
        first = min(sensitive or multi, key=cost)
        second = min((i for i in range(len(questions)) if i != first), key=cost, default=None)
        sample = [first] if second is None else [first, second]
        requests = [pair for i in sample for pair in questions[i]]
        one_row = [trie_row(requests)]
        plain = [row for number, request in requests for row in plain_rows([request], number)]
        shared, separate, causal = (torch.zeros_like(lls) for _ in range(3))
        try:
            with torch.inference_mode():
                self._score_batch(one_row, shared, packed=True)
                self._score_batch(plain, separate, packed=False)
                if self.half_precision:
                    self._score_batch(one_row, causal, packed=False)
        except (TypeError, ValueError, RuntimeError, AttributeError):
            return None
        index = torch.tensor([number for number, _ in requests])
        if not layouts_agree(shared[index], separate[index], causal[index], self.half_precision):
            return None
        lls[index] = shared[index]
        return set(sample)

    @property
    def half_precision(self) -> bool:
        import torch

        return next(self.model.parameters()).dtype in (torch.bfloat16, torch.float16)

    def _score_batch(self, batch: list[Row], lls: "torch.Tensor", packed: bool | None = None) -> None:
        import torch

        device = self.device
        tensors = row_tensors(batch)
        positions, valid = tensors["position_ids"].to(device), tensors["attention_mask"].to(device)
        kwargs = {"input_ids": tensors["input_ids"].to(device), "position_ids": positions, "use_cache": False}
        if self.share_context if packed is None else packed:
            kwargs["attention_mask"] = self._masks(positions, tensors["parents"].to(device), valid)
        else:
            kwargs["attention_mask"] = valid
        flat_positions, targets, owners = tensors["scored_index"], tensors["scored_target"], tensors["scored_owner"]
        # Choices that share the context are all predicted from its last position (their first token): run the
        # output head once per distinct position, then pick each target from it.
        distinct, which = torch.unique(flat_positions, return_inverse=True)
        distinct = distinct.to(device)
        with mlp_on_rows(self.last_mlp, distinct):
            hidden = self.backbone(**kwargs).last_hidden_state.flatten(0, 1)
        picked = hidden[distinct]
        token_lls = torch.empty(len(targets), dtype=torch.float64)
        for start in range(0, len(distinct), HEAD_CHUNK_ROWS):
            stop = start + HEAD_CHUNK_ROWS
            logits = final_logits(self.head, picked[start:stop], self.softcap)
            here = ((which >= start) & (which < stop)).nonzero()[:, 0]
            chosen = token_logprobs(logits, (which[here] - start).to(device), targets[here].to(device))
            token_lls[here] = chosen.double().cpu()
        lls.index_add_(0, owners, token_lls)

    def _masks(self, positions, parents, valid):
        """The packed layout's attention masks (paw.packing) in the model's dtype, on its device."""
        dtype = next(self.model.parameters()).dtype
        return attention_masks(self.model.config, dtype, positions, parents, valid)
