"""Run a causal LM over packed rows and return each request's loglikelihood.

Speed comes from seven choices: each question's choices are one token trie, so every shared prefix is computed
once (see paw.packing); several questions share a row, and rows are evened out to fill whole batches of one
length, so almost nothing is padding; the output head runs only on the hidden states of distinct scored positions,
several batches' at a time (fuller products) — with a 262k vocabulary the head is most of a small model's cost —
and so does the last layer's MLP (paw.evaluation.last_layer); the gated MLPs work in place
(paw.evaluation.gated_mlp); the opening that every request shares is computed once for the run, not once per row
(paw.evaluation.opening); the check that the model honours the layout rides in the packed batches, at the cost
of two short requests scored twice, and covers the path through the opening too.
Values equal lm-eval's: the final logits, softcap and log-softmax are paw.scoring's, summed over the continuation
tokens in float64.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Callable

from paw.evaluation.gated_mlp import gated_mlps_in_place
from paw.evaluation.last_layer import last_dense_mlp, mlp_on_rows
from paw.evaluation.layout_probe import layout_probe, lead_rows, references
from paw.evaluation.opening import (kept_positions, opening_states, past_of, shared_opening, with_capture_first,
                                   with_opening, without_opening)
from paw.evaluation.requests import Request
from paw.packing import (Row, attention_masks, layouts_agree, pack_bins, pack_questions, plain_rows, row_tensors,
                          token_budget_batches, trie_row)
from paw.scoring import final_logits, head_logprobs_in, softcap, token_logprobs

if TYPE_CHECKING:
    import torch

# Scored positions per output-head call: bounds the (rows × vocab) logits tensor. The head's weight is read once
# per call, so fuller calls are cheaper per row: on Qwen2.5-Coder-0.5B (152k vocabulary) 2.0 ms a row at 168 rows,
# 1.86 at 336, 1.82 at 512. Batches therefore wait until they have at least HEAD_ROWS between them.
HEAD_CHUNK_ROWS = 512
HEAD_ROWS = 256
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


def _numbers(batch: list[Row]) -> set[int]:
    """The request numbers a batch scores."""
    return {number for row in batch for _, _, number in row.scored}


@dataclass
class HeadInput:
    """A decoded batch: final hidden states at its distinct scored positions, and per scored token its row among
    them, its target token and its request number."""

    hidden: "torch.Tensor"
    which: "torch.Tensor"
    targets: "torch.Tensor"
    owners: "torch.Tensor"


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
        self._buffer: "torch.Tensor | None" = None  # the output head's logits on a CPU (see `_logits_buffer`)
        # The run's shared opening (paw.evaluation.opening): its length while the next batch is to keep it, then its
        # keys and values for the batches after.
        self._capture = 0
        self._opening = None

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
        report = on_batch or (lambda numbers: None)
        lls = None
        with torch.inference_mode(), gated_mlps_in_place(self.backbone):
            if self.share_context:
                lls = self._score_packed(questions, report)
                if lls is None:
                    print("note: this architecture ignores custom attention masks; scoring each choice separately",
                          file=sys.stderr, flush=True)  # stderr: stdout carries only the results
                    self.share_context = False
            if not self.share_context:
                lls = torch.zeros(sum(map(len, questions)), dtype=torch.float64)
                self._run(token_budget_batches(self.rows(questions), self.token_budget), lls, report, packed=False)
        return lls.tolist()

    def _score_packed(self, questions: list[list[tuple[int, Request]]],
                      report: Callable[[set[int]], None]) -> "torch.Tensor | None":
        """Every question's loglikelihoods from packed rows; None (scores unusable) when the batches holding the
        layout check show that the model does not honour the layout (see paw.evaluation.layout_probe).

        The check needs no forward of its own. Each compared request is scored a second time at the start of
        another row ("references", numbered after the real requests), where any causal model reads it exactly as a
        row of its own: nothing precedes it, and its position ids are its indices. The batches holding the probe
        and the references go first; nothing of them is reported before the check holds."""
        import torch

        total = sum(map(len, questions))
        probe, compared = layout_probe(questions)
        in_probe = {number for number, _ in probe}
        rest = [q for q in questions if not any(number in in_probe for number, _ in q)]
        bins = pack_bins(([probe] if probe else []) + rest, self.row_tokens,
                         rows_multiple=max(1, self.token_budget // self.row_tokens))
        again = references(probe, compared, total)
        rows = [trie_row(row) for row in lead_rows(bins, again, in_probe)]
        opening = shared_opening([request for question in questions for _, request in question]) if probe else 0
        for row in rows:  # a row that starts with a reference keeps its opening: it must read as a row of its own
            row.opening = 0 if any(number >= total for _, _, number in row.scored) else opening
        lls = torch.zeros(total + len(again), dtype=torch.float64)
        batches = token_budget_batches(rows, self.token_budget)
        checked = in_probe | {number for number, _ in again}
        first = [batch for batch in batches if _numbers(batch) & checked]
        rest = [batch for batch in batches if not _numbers(batch) & checked]
        if opening:
            first, rest, capture = with_capture_first(first, rest, lambda batch: bool(_numbers(batch) & in_probe),
                                                      kept_positions(self.model.config))
            self._capture = opening if capture else 0
        held: set[int] = set()
        try:
            try:
                self._run(first, lls, held.update, packed=True)
            except (TypeError, ValueError, RuntimeError, AttributeError):
                return None  # an architecture that cannot take the layout's masks at all
            if probe and not self._layout_holds(probe, compared, lls[compared], lls[total:]):
                return None

            def reported(numbers: set[int]) -> None:  # the references are nobody's request
                report({number for number in numbers if number < total})

            reported(held)
            self._run(rest, lls, reported, packed=True)
            return lls[:total]
        finally:
            self._capture, self._opening = 0, None

    def _run(self, batches: list[list[Row]], lls: "torch.Tensor", report: Callable[[set[int]], None],
             packed: bool) -> None:
        """Score the batches into `lls`, the output head over at least HEAD_ROWS positions at a time."""
        pending: list[HeadInput] = []  # decoded batches whose output head has not run yet
        finished: set[int] = set()
        for k, batch in enumerate(batches):
            pending.append(self._decode(batch, packed))
            finished |= _numbers(batch)
            if sum(len(part.hidden) for part in pending) >= HEAD_ROWS or k == len(batches) - 1:
                self._head(pending, lls)
                report(finished)
                pending, finished = [], set()

    def shared_path_verified(self, grouped: list[list[Request]]) -> bool:
        """Whether this model honours the packed layout (see paw.evaluation.layout_probe): its probe scored in one
        row, and each compared request again in a row of its own."""
        import torch

        questions = numbered(grouped)
        total = sum(map(len, questions))
        probe, compared = layout_probe(questions)
        if not probe:
            return True
        alone = [trie_row([reference]) for reference in references(probe, compared, total)]
        lls = torch.zeros(total + len(compared), dtype=torch.float64)
        try:
            with torch.inference_mode():
                self._score_batch([trie_row(probe), *alone], lls, packed=True)
                return self._layout_holds(probe, compared, lls[compared], lls[total:])
        except (TypeError, ValueError, RuntimeError, AttributeError):
            return False

    def _layout_holds(self, probe: list[tuple[int, Request]], compared: list[int], packed: "torch.Tensor",
                      alone: "torch.Tensor") -> bool:
        """Whether the `compared` requests' packed scores equal their scores in rows of their own (and, in half
        precision, sit nearer those than the probe read with plain causal attention: see `layouts_agree`)."""
        import torch

        causal = torch.zeros_like(packed)
        if self.half_precision:
            read = torch.zeros(max(number for number, _ in probe) + 1, dtype=torch.float64)
            try:
                self._score_batch([trie_row(probe)], read, packed=False)
            except (TypeError, ValueError, RuntimeError, AttributeError):
                return False
            causal = read[compared]
        return layouts_agree(packed, alone, causal, self.half_precision)

    @property
    def half_precision(self) -> bool:
        import torch

        return next(self.model.parameters()).dtype in (torch.bfloat16, torch.float16)

    def _score_batch(self, batch: list[Row], lls: "torch.Tensor", packed: bool | None = None) -> None:
        self._head([self._decode(batch, packed)], lls)

    def _decode(self, batch: list[Row], packed: bool | None = None) -> HeadInput:
        """The decoder over one batch: final hidden states at its distinct scored positions."""
        import torch

        device = self.device
        past = self._opening is not None and any(row.opening for row in batch)
        if past:
            batch = [without_opening(row) if row.opening else row for row in batch]
        tensors = row_tensors(batch)
        positions, valid = tensors["position_ids"].to(device), tensors["attention_mask"].to(device)
        kwargs = {"input_ids": tensors["input_ids"].to(device), "position_ids": positions,
                  "use_cache": past or bool(self._capture)}
        if self.share_context if packed is None else packed:
            kwargs["attention_mask"] = self._masks(positions, tensors["parents"].to(device), valid)
        else:
            kwargs["attention_mask"] = valid
        if past:
            sees = torch.tensor([row.opening > 0 for row in batch], device=device)
            kwargs["attention_mask"] = with_opening(kwargs["attention_mask"], self._opening[0][0].shape[-2], sees,
                                                    positions, self.model.config)
            kwargs["cache"] = past_of(self._opening, len(batch), self.model.config)
        # Choices that share the context are all predicted from its last position (their first token): run the
        # output head once per distinct position, then pick each target from it.
        distinct, which = torch.unique(tensors["scored_index"], return_inverse=True)
        distinct = distinct.to(device)
        with mlp_on_rows(self.last_mlp, distinct):
            out = self.backbone(**kwargs)
        if self._capture:  # every row of this batch starts with the opening, at positions 0, 1, …
            self._opening = opening_states(getattr(out, "cache", None), self._capture, positions.shape[1])
            self._capture = 0
        hidden = out.last_hidden_state.flatten(0, 1)
        return HeadInput(hidden[distinct], which, tensors["scored_target"], tensors["scored_owner"])

    def _head(self, inputs: list[HeadInput], lls: "torch.Tensor") -> None:
        """The output head over the batches' hidden states together (fewer, fuller products), each scored
        token's log-probability added into its request's loglikelihood."""
        import torch

        device = self.device
        offsets = accumulate((len(part.hidden) for part in inputs), initial=0)
        picked = torch.cat([part.hidden for part in inputs])
        which = torch.cat([part.which + offset for part, offset in zip(inputs, offsets)])
        targets = torch.cat([part.targets for part in inputs])
        owners = torch.cat([part.owners for part in inputs])
        token_lls = torch.empty(len(targets), dtype=torch.float64)
        for start in range(0, len(picked), HEAD_CHUNK_ROWS):
            stop = start + HEAD_CHUNK_ROWS
            here = ((which >= start) & (which < stop)).nonzero()[:, 0]
            rows, chosen_targets = (which[here] - start).to(device), targets[here].to(device)
            if device.type == "cpu":  # a GPU's caching allocator already reuses the logits' memory
                logprobs = head_logprobs_in(self._logits_buffer(), self.head, picked[start:stop], self.softcap)
                chosen = logprobs[rows, chosen_targets]
            else:
                logits = final_logits(self.head, picked[start:stop], self.softcap)
                chosen = token_logprobs(logits, rows, chosen_targets)
            token_lls[here] = chosen.double().cpu()
        lls.index_add_(0, owners, token_lls)

    def _logits_buffer(self) -> "torch.Tensor":
        """A float32 [HEAD_CHUNK_ROWS × vocabulary] buffer for the output head, made once and kept between calls
        (its pages become resident only as far as calls write into it)."""
        import torch

        if self._buffer is None:
            vocab = self.head.weight.shape[0]
            self._buffer = torch.empty(HEAD_CHUNK_ROWS, vocab, dtype=torch.float32, device=self.device)
        return self._buffer

    def _masks(self, positions, parents, valid):
        """The packed layout's attention masks (paw.packing) in the model's dtype, on its device."""
        dtype = next(self.model.parameters()).dtype
        return attention_masks(self.model.config, dtype, positions, parents, valid)
