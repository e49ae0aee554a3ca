"""Run a causal LM over packed rows and return each request's loglikelihood.

Speed comes from three choices: rows are batched by a token budget, longest first (little padding); each
question's shared context is computed once (see paw.packing); and the output head runs only on the hidden states
of scored positions — with a 262k vocabulary the head is most of a small model's cost. Values equal lm-eval's:
the final logits, softcap and log-softmax are paw.scoring's, summed over the continuation tokens in float64.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Callable

from paw.evaluation.requests import Request
from paw.packing import Row, attention_masks, layouts_agree, plain_rows, row_tensors, shared_row, token_budget_batches
from paw.scoring import final_logits, softcap, token_logprobs

if TYPE_CHECKING:
    import torch

HEAD_CHUNK_ROWS = 256  # scored positions per output-head call: bounds the (rows × vocab) logits tensor


class Scorer:
    """Loglikelihoods of requests under one model. `share_context=False` scores each choice as its own row."""

    def __init__(self, model, share_context: bool = True, token_budget: int = 4096):
        self.model = model
        self.share_context = share_context
        self.token_budget = token_budget
        self.backbone = getattr(model, model.base_model_prefix)
        self.head = model.get_output_embeddings()
        self.softcap = softcap(model.config)

    @property
    def device(self) -> "torch.device":
        return next(self.model.parameters()).device

    def rows(self, grouped: list[list[Request]]) -> list[Row]:
        rows, first = [], 0
        for requests in grouped:
            if self.share_context and len(requests) > 1:
                rows.append(shared_row(requests, first))
            else:
                rows += plain_rows(requests, first)
            first += len(requests)
        return rows

    def score(self, grouped: list[list[Request]], on_batch: Callable[[set[int]], None] | None = None) -> list[float]:
        """Loglikelihood per request, flattened in item-then-choice order. `on_batch` gets the numbers (in that
        order) of the requests each batch finished: batches go longest first, so items finish out of order."""
        import torch

        if self.share_context and not self.shared_path_verified(grouped):
            print("note: this architecture ignores custom attention masks; scoring each choice separately",
                  file=sys.stderr, flush=True)  # stderr: stdout carries only the results
            self.share_context = False
        total = sum(len(g) for g in grouped)
        lls = torch.zeros(total, dtype=torch.float64)
        rows = self.rows(grouped)
        with torch.inference_mode():
            for batch in token_budget_batches(rows, self.token_budget):
                self._score_batch(batch, lls)
                if on_batch is not None:
                    on_batch({s[2] for row in batch for s in row.scored})
        return lls.tolist()

    def shared_path_verified(self, grouped: list[list[Request]]) -> bool:
        """Score one multi-choice item packed and one row per choice: an architecture that does not honour the
        packed layout's masks (position ids, 4D or per-layer-type masks) would give other values, and must not be
        packed. The item is the one with the longest choices, where a choice that saw another would show most."""
        import torch

        sample = max((g for g in grouped if len(g) > 1), key=lambda g: min(len(r.targets) for r in g), default=None)
        if sample is None:
            return True
        shared, plain, causal = (torch.zeros(len(sample), dtype=torch.float64) for _ in range(3))
        try:
            with torch.inference_mode():
                self._score_batch([shared_row(sample, 0)], shared)
                self._score_batch(plain_rows(sample, 0), plain, packed=False)
                if self.half_precision:
                    self._score_batch([shared_row(sample, 0)], causal, packed=False)
        except (TypeError, ValueError, RuntimeError, AttributeError):
            return False
        return layouts_agree(shared, plain, causal, self.half_precision)

    @property
    def half_precision(self) -> bool:
        import torch

        return next(self.model.parameters()).dtype in (torch.bfloat16, torch.float16)

    def _score_batch(self, batch: list[Row], lls: "torch.Tensor", packed: bool | None = None) -> None:
        import torch

        device = self.device
        tensors = row_tensors(batch)
        positions, branches = tensors["position_ids"].to(device), tensors["branches"].to(device)
        kwargs = {"input_ids": tensors["input_ids"].to(device), "position_ids": positions, "use_cache": False}
        if self.share_context if packed is None else packed:
            kwargs["attention_mask"] = self._masks(positions, branches, device)
        else:
            kwargs["attention_mask"] = (branches >= 0).long()
        hidden = self.backbone(**kwargs).last_hidden_state.flatten(0, 1)
        flat_positions, targets, owners = tensors["scored_index"], tensors["scored_target"], tensors["scored_owner"]
        # Choices that share the context are all predicted from its last position (their first token): run the
        # output head once per distinct position, then pick each target from it.
        distinct, which = torch.unique(flat_positions, return_inverse=True)
        picked = hidden[distinct.to(device)]
        token_lls = torch.empty(len(targets), dtype=torch.float64)
        for start in range(0, len(distinct), HEAD_CHUNK_ROWS):
            stop = start + HEAD_CHUNK_ROWS
            logits = final_logits(self.head, picked[start:stop], self.softcap)
            here = ((which >= start) & (which < stop)).nonzero()[:, 0]
            chosen = token_logprobs(logits, (which[here] - start).to(device), targets[here].to(device))
            token_lls[here] = chosen.double().cpu()
        lls.index_add_(0, owners, token_lls)

    def _masks(self, positions, branches, device):
        """The packed layout's attention masks (paw.packing) in the model's dtype, on its device."""
        dtype = next(self.model.parameters()).dtype
        return attention_masks(self.model.config, dtype, positions.to(device), branches.to(device))
