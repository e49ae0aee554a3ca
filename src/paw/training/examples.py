"""Training and validation examples as token ids, and the batches the trainer consumes.

Tokenisation is paw.scoring's (lm-eval 0.4.13's `_encode_pair`), so the model is trained on exactly the token
sequences the evaluation scores: trailing whitespace of the context moves to the continuation, whole =
enc(context+continuation), answer tokens = whole[len(enc(context)):], the tokenizer's own BOS rule. Loss is on the
answer tokens only.

Batch k is derived from (seed, k) alone — sample order is a chain of seeded permutations — so a run resumed from a
checkpoint at any step sees the same batches as an uninterrupted one (a DataLoader restarted mid-epoch would not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import torch
from torch.utils.data import IterableDataset

from paw.errors import PawError
from paw.scoring import IGNORE, Example, collate, encode_pair, window

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["IGNORE", "ChoiceSequence", "Example", "SeededOrder", "StepBatches", "choice_sequences", "collate",
           "collate_choices", "encode_pair", "make_example"]  # IGNORE, Example, collate, encode_pair: paw.scoring's


def make_example(tokenizer: "PreTrainedTokenizerBase", context: str, continuation: str, max_length: int) -> Example:
    """One training sequence, cut on the left to max_length + 1 tokens as lm-eval cuts it; an empty answer is an
    error (nothing to train on)."""
    context_ids, answer_ids = encode_pair(tokenizer, context, continuation)
    if not answer_ids:
        raise PawError(f"training example {context[-40:]!r} + {continuation!r}: the answer encodes to no tokens")
    return window(context_ids, answer_ids, max_length)


class SeededOrder:
    """Sample index at stream position s: permutation number s // n (seeded by seed and that number), entry s % n."""

    def __init__(self, n: int, seed: int):
        if n == 0:
            raise PawError("no training examples — the training split is empty")
        self.n, self.seed = n, seed
        self._cache: dict[int, list[int]] = {}

    def __getitem__(self, position: int) -> int:
        epoch = position // self.n
        if epoch not in self._cache:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._cache = {epoch: torch.randperm(self.n, generator=generator).tolist()}
        return self._cache[epoch][position % self.n]


class StepBatches(IterableDataset):
    """Endless micro-batches; micro-batch m of process `rank` holds stream positions (m·world + rank)·B … + B.

    `position()` -> (first micro-batch, rank, world) is read when iteration begins, so a trainer restored from a
    checkpoint (or launched on several processes) supplies its own. Each batch carries its micro-batch index,
    which seeds that step's dropout.
    """

    def __init__(
        self,
        examples: Sequence[Example],
        batch_size: int,
        seed: int,
        pad_id: int,
        position: Callable[[], tuple[int, int, int]] = lambda: (0, 0, 1),
        collate_fn: Callable[[Sequence, int], dict[str, torch.Tensor]] | None = None,
    ):
        super().__init__()
        self.examples, self.batch_size, self.pad_id = examples, batch_size, pad_id
        self.collate = collate_fn or collate  # another objective's examples bring their own (distill_objective)
        self.order = SeededOrder(len(examples), seed)
        self.position = position

    def batch(self, micro: int, rank: int = 0, world: int = 1) -> dict[str, torch.Tensor]:
        first = (micro * world + rank) * self.batch_size
        picked = [self.examples[self.order[first + j]] for j in range(self.batch_size)]
        batch = self.collate(picked, self.pad_id)
        batch["micro"] = torch.tensor(micro)
        return batch

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        micro, rank, world = self.position()
        while True:
            yield self.batch(micro, rank, world)
            micro += 1


@dataclass(frozen=True)
class ChoiceSequence:
    """One choice of one validation item, for scoring: which item, which choice, is it the gold one."""

    example: Example
    item: int
    choice: int
    gold: bool


def choice_sequences(tokenizer, items: Sequence, max_length: int) -> list[ChoiceSequence]:
    """Every (item, choice) of the validation items (objects with contexts, continuations, gold) as sequences."""
    out = []
    for i, item in enumerate(items):
        for c, (context, continuation) in enumerate(zip(item.contexts, item.continuations)):
            out.append(ChoiceSequence(make_example(tokenizer, context, continuation, max_length), i, c, c == item.gold))
    return out


def collate_choices(sequences: Sequence[ChoiceSequence], pad_id: int) -> dict[str, torch.Tensor]:
    batch = collate([s.example for s in sequences], pad_id)
    batch["item"] = torch.tensor([s.item for s in sequences])
    batch["choice"] = torch.tensor([s.choice for s in sequences])
    batch["gold"] = torch.tensor([s.gold for s in sequences])
    return batch
