"""Lay requests out as model rows and run a model over them. Evaluation scores with it (`paw.evaluation.scorer`)
and distillation trains the student with it (`paw.training.distill_objective`), so both see the same layout and the
same masks.

A row is a forest of token trees. Each token names the token it follows (its parent; -1 starts a sequence), its
position id is its depth, and the attention mask lets it see itself and its ancestors only — so every scored
position sees exactly the tokens it would see in a row of its own, whatever else shares the row.

- `plain_rows`: one chain per request (one row per choice, as lm-eval reads them).
- `item_tree`: one question's choices as a trie: the question once, and the choices' shared first words once too.
  ARC needs about 3x fewer tokens this way (benchmarks/eval_throughput.py counts them against the unique-prefix
  minimum).
- `pack_questions`: several questions in one row, itself one trie, so rows are of nearly equal length (batches
  carry almost no padding) and questions that open alike share those tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, Sequence
from paw.scoring import causal_lm, final_logits, softcap

if TYPE_CHECKING:
    import torch


class Request(Protocol):
    """One choice: what the model reads, and the targets its last `n_scored` positions predict."""

    input_ids: Sequence[int]
    n_scored: int
    targets: Sequence[int]


@dataclass
class Row:
    tokens: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)  # index of the token each one follows, -1 = a sequence start
    # (index in row, target token, request number) for every scored position
    scored: list[tuple[int, int, int]] = field(default_factory=list)
    # first tokens that every request of the run shares, which the scorer may read as past keys and values instead
    # (paw.evaluation.opening); 0 = the row runs whole
    opening: int = 0

    def __len__(self) -> int:
        return len(self.tokens)


def plain_rows(requests: list[Request], first_request: int) -> list[Row]:
    rows = []
    for offset, request in enumerate(requests):
        n = len(request.input_ids)
        start = n - request.n_scored
        rows.append(Row(
            tokens=list(request.input_ids),
            positions=list(range(n)),
            parents=list(range(-1, n - 1)),
            scored=[(start + k, t, first_request + offset) for k, t in enumerate(request.targets)],
        ))
    return rows


def item_tree(requests: list[Request], first_request: int) -> Row:
    """One question's requests (numbered from `first_request`) as one token trie."""
    return trie_row(list(enumerate(requests, first_request)))


def trie_row(numbered: list[tuple[int, Request]]) -> Row:
    """(request number, request) pairs as one token trie: a prefix that several share is one path of the tree.
    Parents come before their children."""
    row = Row()
    node: dict[tuple[int, int], int] = {}  # (parent index, token) -> index in row
    for number, request in numbered:
        path, parent = [], -1
        for depth, token in enumerate(request.input_ids):
            index = node.get((parent, token))
            if index is None:
                index = node[(parent, token)] = len(row.tokens)
                row.tokens.append(token)
                row.positions.append(depth)
                row.parents.append(parent)
            path.append(index)
            parent = index
        first_scored = len(request.input_ids) - request.n_scored
        if first_scored < 0 or request.n_scored != len(request.targets):
            raise ValueError(f"request {number}: {request.n_scored} scored positions for {len(request.input_ids)} "
                             f"input tokens and {len(request.targets)} targets — expected at most one per input "
                             "token and one target each")
        row.scored += [(path[first_scored + k], t, number) for k, t in enumerate(request.targets)]
    return row


def pack_questions(questions: list[list[tuple[int, Request]]], row_tokens: int,
                   rows_multiple: int = 1) -> list[Row]:
    """Questions (each its numbered requests) laid into rows of at most `row_tokens` tokens (see `pack_bins`). A
    row is one trie of all its requests, so questions that open alike (a prompt's first words) share those tokens
    too; no choice sees anything off its own path."""
    return [trie_row(requests) for requests in pack_bins(questions, row_tokens, rows_multiple)]


def pack_bins(questions: list[list[tuple[int, Request]]], row_tokens: int,
              rows_multiple: int = 1) -> list[list[tuple[int, Request]]]:
    """The numbered requests of each row `pack_questions` makes: first fit, largest trie first, a larger one alone.

    With `rows_multiple` > 1 the rows are also evened out: their count is rounded up to that multiple (a batch's
    rows) and the capacity lowered to the least that still fits the questions in that many, so every batch is full
    and its rows are of nearly one length."""
    sized = sorted(((len(trie_row(q)), q) for q in questions), key=lambda pair: pair[0], reverse=True)
    bins = _first_fit(sized, row_tokens)
    if rows_multiple > 1 and bins:
        target = -(-len(bins) // rows_multiple) * rows_multiple
        total = sum(size for size, _ in sized)
        low, high = max(-(-total // target), sized[0][0]), row_tokens
        while low < high:  # first fit's row count falls (near enough) monotonically as the capacity grows
            middle = (low + high) // 2
            if len(_first_fit(sized, middle)) <= target:
                high = middle
            else:
                low = middle + 1
        tighter = _first_fit(sized, high)
        if len(tighter) <= target:
            bins = tighter
    return bins


def _first_fit(sized: list[tuple[int, list[tuple[int, Request]]]], capacity: int) -> list[list[tuple[int, Request]]]:
    """(trie size, question) pairs, largest first, into bins of `capacity` tokens: each into the first bin it fits,
    a larger one alone."""
    smallest = sized[-1][0] if sized else 0
    bins: list[tuple[int, list[tuple[int, Request]]]] = []  # (tokens, requests)
    open_bins: list[int] = []  # bins that the smallest question still fits: the only ones worth scanning
    for size, question in sized:
        at = next((i for i in open_bins if bins[i][0] + size <= capacity), None)
        if at is None:
            at = len(bins)
            bins.append((0, []))
            open_bins.append(at)
        bins[at] = (bins[at][0] + size, bins[at][1] + question)
        if bins[at][0] + smallest > capacity:
            open_bins.remove(at)
    return [requests for _, requests in bins]


def token_budget_batches(rows: list[Row], token_budget: int, min_fill: float = 0.9) -> list[list[Row]]:
    """Rows sorted longest first, grouped so that rows × longest row stays within the budget (at least one row)
    and no row is shorter than `min_fill` × the batch's longest: padding is wasted work (measured: 60% of the
    tokens of a Gemma 3 ARC run were padding without this bound)."""
    ordered = sorted(rows, key=len, reverse=True)
    batches: list[list[Row]] = []
    for row in ordered:
        if batches:
            longest = len(batches[-1][0])
            if (len(batches[-1]) + 1) * longest <= token_budget and len(row) >= min_fill * longest:
                batches[-1].append(row)
                continue
        batches.append([row])
    return batches


def row_tensors(batch: list[Row]) -> dict[str, "torch.Tensor"]:
    """Right-padded tokens, positions and parents (-1 on padding) [rows × longest], the padding mask (1 = a token),
    and per scored position its index in the flattened batch, its target and its request number."""
    import torch

    width = max(len(row) for row in batch)
    tokens = torch.zeros(len(batch), width, dtype=torch.long)
    positions = torch.zeros(len(batch), width, dtype=torch.long)
    parents = torch.full((len(batch), width), -1, dtype=torch.long)
    valid = torch.zeros(len(batch), width, dtype=torch.long)
    for b, row in enumerate(batch):
        n = len(row)
        tokens[b, :n] = torch.tensor(row.tokens)
        positions[b, :n] = torch.tensor(row.positions)
        parents[b, :n] = torch.tensor(row.parents)
        valid[b, :n] = 1
    return {
        "input_ids": tokens, "position_ids": positions, "parents": parents, "attention_mask": valid,
        "scored_index": torch.tensor([b * width + index for b, row in enumerate(batch) for index, _, _ in row.scored]),
        "scored_target": torch.tensor([t for row in batch for _, t, _ in row.scored]),
        "scored_owner": torch.tensor([r for row in batch for _, _, r in row.scored]),
    }


def ancestry(parents: "torch.Tensor", valid: "torch.Tensor") -> "torch.Tensor":
    """[rows × L × L] bool: token i may attend to token j when j is i or one of its ancestors. One step up the
    trees per iteration, for every token of every row at once: as many steps as the deepest token's depth."""
    import torch

    rows, length = parents.shape
    allowed = torch.zeros(rows, length, length, dtype=torch.bool, device=parents.device)
    row = torch.arange(rows, device=parents.device)[:, None].expand(rows, length)
    token = torch.arange(length, device=parents.device)[None, :].expand(rows, length)
    ancestor, alive = token.clone(), valid.bool()
    while bool(alive.any()):
        allowed[row[alive], token[alive], ancestor[alive]] = True
        ancestor = torch.where(alive, parents.gather(1, ancestor.clamp(min=0)), -1)
        alive = ancestor >= 0
    return allowed


def attention_masks(config, dtype: "torch.dtype", positions: "torch.Tensor", parents: "torch.Tensor",
                    valid: "torch.Tensor"):
    """Additive 4D masks: a token sees itself and its ancestors only (see the module docstring). Models with
    per-layer attention types (Gemma 2/3) get one mask per type, the sliding one also bounded by its window."""
    import torch

    valid = valid.bool()
    allowed = ancestry(parents, valid)
    # Padding rows see themselves only, so softmax never meets an all-masked row.
    eye = torch.eye(parents.shape[1], dtype=torch.bool, device=parents.device)
    allowed |= (~valid[:, :, None]) & eye[None]
    full = additive_mask(allowed, dtype)
    if not getattr(config, "layer_types", None):
        return full
    window = sliding_window(config)
    if not window:
        return {"full_attention": full, "sliding_attention": full}
    # An ancestor's distance is the difference of depths, as in the request's own row.
    near = (positions[:, :, None] - positions[:, None, :]) < window
    return {"full_attention": full,
            "sliding_attention": additive_mask(allowed & (near | ~valid[:, :, None]), dtype)}


def sliding_window(config) -> int | None:
    """The attention window of a model whose layer types include sliding-window attention; None when none slides."""
    if "sliding_attention" not in (getattr(config, "layer_types", None) or ()):
        return None
    return getattr(config, "sliding_window", None) or None


def additive_mask(allowed: "torch.Tensor", dtype: "torch.dtype") -> "torch.Tensor":
    """[rows × L × K] bool (True = may attend) as an additive [rows × 1 × L × K] mask in `dtype`."""
    import torch

    mask = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[:, None]


def layouts_agree(shared: "torch.Tensor", plain: "torch.Tensor", causal: "torch.Tensor", half_precision: bool) -> bool:
    """Whether a model honours the packed layout: its scores of one question packed (`shared`) against one row per
    choice (`plain`), and — for half precision — the packed row read with plain causal attention (`causal`), which
    is what an architecture that drops custom masks computes."""
    import torch

    if not half_precision:
        return bool(torch.allclose(shared, plain, atol=1e-3, rtol=1e-5))
    # In bf16/fp16 two layouts of the same sums differ by rounding alone, up to 0.37 nats a choice on
    # Qwen2.5-0.5B and ARC-Easy; a model that ignores the masks gives the plain causal scores of the packed row,
    # which on choices of 3+ tokens sit ≥ 1 nat from the separate ones. Packed must be the nearer of the two.
    gap = float((causal - plain).abs().max())
    return gap == 0.0 or float((shared - plain).abs().max()) <= 0.5 * gap


def packed_logprobs(model, batch: dict[str, "torch.Tensor"], masked: bool = True) -> "torch.Tensor":
    """Per request of a `row_tensors` batch, the sum of its scored tokens' log-probs (lm-eval's loglikelihood):
    the decoder over the packed rows, then the output head only on scored positions. Differentiable: the
    distillation student trains on it. `masked=False` reads the rows with plain causal attention, as a model that
    drops custom masks would (see `layouts_agree`)."""
    import torch

    lm = causal_lm(model)
    positions, valid = batch["position_ids"], batch["attention_mask"]
    if masked:
        mask = attention_masks(lm.config, next(lm.parameters()).dtype, positions, batch["parents"], valid)
    else:
        mask = valid
    decoder = lm.get_decoder()
    hidden = decoder(input_ids=batch["input_ids"], position_ids=positions, attention_mask=mask,
                     use_cache=False).last_hidden_state.flatten(0, 1)
    logits = final_logits(lm.get_output_embeddings(), hidden[batch["scored_index"]], softcap(lm.config))
    targets, owners = batch["scored_target"], batch["scored_owner"]
    # The same form as paw.scoring.answer_logprobs (gather − logsumexp), so both layouts train alike.
    logprobs = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)
    n_requests = int(owners.max()) + 1 if len(owners) else 0
    return torch.zeros(n_requests, dtype=logprobs.dtype, device=logprobs.device).index_add_(0, owners, logprobs)
