"""A training objective for label-free distillation over multiple-choice questions.

Each example is one question: one token sequence per choice (context + choice continuation, tokenised exactly as
the evaluation scores it, see `paw.scoring`) and the teacher's distribution over those choices. The student's
distribution is the softmax of its per-choice loglikelihoods, both at temperature T; the loss is the mean over
questions of T²·KL(teacher ‖ student) (the T² keeps gradient sizes comparable across temperatures, as in Hinton
et al.).

A question's choices go through the student as one packed row (`paw.packing`, the evaluation's layout): a token
trie, so the question and any words the choices share are read once, and each choice sees only its own path — on
ARC 2.7-3x fewer tokens than a row per choice, with the same loglikelihoods. Before the first step the layout is
checked on the student itself (`check_layout`); an architecture that ignores custom masks trains on one row per
choice instead.

No gold label reaches this file: a question is its choices, and the only target is the teacher's distribution.
The training engine (`paw.training.run.train_lora(objective=...)`) keeps everything else: Lightning, logging,
resume, the NaN guard, devices.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import torch

from paw.errors import PawError
from paw.packing import item_tree, layouts_agree, packed_logprobs, row_tensors
from paw.scoring import Example, char_lengths, collate, sequence_logprobs
from paw.training.examples import make_example

if TYPE_CHECKING:
    from paw.data import Item


@dataclass(frozen=True)
class DistillExample:
    """One question: a sequence per choice, the teacher's probability of each choice, and what each choice's
    loglikelihood is divided by before the softmax (1 each, or its length in characters for `normalize="chars"`)."""

    sequences: tuple[Example, ...]
    teacher: tuple[float, ...]
    divisors: tuple[float, ...] = ()


def distill_examples(tokenizer, questions: Sequence["Item"], teacher: Sequence[Sequence[float]],
                     max_length: int, normalize: str = "none") -> list[DistillExample]:
    """Questions (contexts and continuations only are read) with the teacher's choice probabilities."""
    out = []
    for item, probs in zip(questions, teacher, strict=True):
        if len(item.contexts) < 2 or len(probs) != len(item.contexts):
            raise PawError(f"question {item.id}: {len(item.contexts)} choice(s) — expected at least two choices and "
                           "one teacher probability per choice")
        sequences = tuple(make_example(tokenizer, c, a, max_length) for c, a in zip(item.contexts, item.continuations))
        divisors = tuple(float(n) for n in char_lengths(item.choice_texts)) if normalize == "chars" else ()
        out.append(DistillExample(sequences, tuple(float(p) for p in probs), divisors))
    return out


@dataclass(frozen=True)
class _Choice:
    """An `Example` as paw.packing reads a request: the tokens read, and the targets of the last n_scored."""

    input_ids: tuple[int, ...]
    n_scored: int
    targets: tuple[int, ...]


def _choice(example: Example) -> _Choice:
    return _Choice(example.ids[:-1], example.n_answer, example.ids[len(example.ids) - example.n_answer:])


def collate_distill(examples: Sequence[DistillExample], pad_id: int, packed: bool = False) -> dict[str, torch.Tensor]:
    """All choices of all questions in one batch: one packed row per question (`packed`) or one padded row per
    choice. `question` maps each choice to its question, `teacher` is [questions × most choices] (0 where a
    question has fewer choices)."""
    if packed:
        rows, first = [], 0
        for ex in examples:
            rows.append(item_tree([_choice(s) for s in ex.sequences], first))
            first += len(ex.sequences)
        batch = row_tensors(rows)
    else:
        batch = collate([s for ex in examples for s in ex.sequences], pad_id)
    batch["question"] = torch.tensor([q for q, ex in enumerate(examples) for _ in ex.sequences])
    if any(ex.divisors for ex in examples):
        batch["divisor"] = torch.tensor([d for ex in examples for d in ex.divisors], dtype=torch.float32)
    width = max(len(ex.teacher) for ex in examples)
    teacher = torch.zeros(len(examples), width, dtype=torch.float32)
    for q, ex in enumerate(examples):
        teacher[q, : len(ex.teacher)] = torch.tensor(ex.teacher)
    batch["teacher"] = teacher
    return batch


def choice_log_probs(sums: torch.Tensor, question: torch.Tensor, n_questions: int, width: int,
                     temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(log-softmax over each question's choices of loglikelihood / T [Q × width], valid-choice mask [Q × width])."""
    counts = torch.zeros(n_questions, dtype=torch.long, device=question.device)
    counts = counts.index_add_(0, question, torch.ones_like(question))
    offsets = torch.cumsum(counts, 0) - counts  # rows of one question are contiguous (see collate_distill)
    column = torch.arange(len(question), device=question.device) - offsets[question]
    scores = torch.full((n_questions, width), float("-inf"), dtype=sums.dtype, device=sums.device)
    scores = scores.index_put((question, column), sums / temperature)
    valid = torch.isfinite(scores)
    # Absent choices are -inf before the softmax (no probability) and 0 after it (no NaN in any gradient).
    return torch.where(valid, torch.log_softmax(scores, dim=1), torch.zeros_like(scores)), valid


class ChoiceKL:
    """The loss: mean over questions of T²·KL(teacher ‖ student) over the choices. Picklable (a class, not a
    closure), so several processes can run it."""

    def __init__(self, temperature: float):
        self.temperature = temperature

    def __call__(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        sums = packed_logprobs(model, batch) if "parents" in batch else sequence_logprobs(model, batch)[0]
        if "divisor" in batch:  # acc_norm's ranking: each loglikelihood per character of its choice
            sums = sums / batch["divisor"].to(sums.device)
        teacher = batch["teacher"].to(sums.device)
        log_student, valid = choice_log_probs(sums, batch["question"].to(sums.device), teacher.shape[0],
                                              teacher.shape[1], self.temperature)
        log_teacher = torch.where(teacher > 0, teacher.clamp_min(1e-30).log(), torch.zeros_like(teacher))
        terms = torch.where(valid & (teacher > 0), teacher * (log_teacher - log_student), torch.zeros_like(teacher))
        return terms.sum(1).mean() * self.temperature**2


@dataclass
class DistillObjective:
    """What `train_lora` needs to train on a teacher's choice distributions instead of gold answers.

    `initial` (optional): LoRA factors {module path: (A [r×in], B [out×r])} with their scale alpha/r, loaded into
    the fresh LoRA before training (transfer-then-calibrate); modules it lacks keep PEFT's fresh start.
    `share_context`: the student reads each question as one packed row (see the module docstring)."""

    questions: Sequence["Item"]
    teacher: Sequence[Sequence[float]]
    temperature: float
    initial: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    initial_scale: float = 1.0
    share_context: bool = True
    normalize: str = "none"  # none | chars (see paw.transfer.methods.distill)
    prepared: list[DistillExample] = field(default_factory=list, repr=False)

    def examples(self, tokenizer, max_length: int) -> list[DistillExample]:
        self.prepared = distill_examples(tokenizer, self.questions, self.teacher, max_length, self.normalize)
        return self.prepared

    def collate(self, examples: Sequence[DistillExample], pad_id: int) -> dict[str, torch.Tensor]:
        return collate_distill(examples, pad_id, packed=self.share_context)

    def loss(self) -> ChoiceKL:
        return ChoiceKL(self.temperature)

    def fingerprint(self) -> str:
        """What besides the examples (hashed by the engine) decides the trained weights."""
        decisive = {"temperature": self.temperature, "scale": self.initial_scale, "packed": self.share_context}
        if self.normalize != "none":  # absent otherwise, so earlier runs' checkpoints still resume
            decisive["normalize"] = self.normalize
        digest = hashlib.sha256(json.dumps(decisive).encode())
        for path in sorted(self.initial):
            a, b = self.initial[path]
            digest.update(path.encode())
            digest.update(a.contiguous().numpy().tobytes())
            digest.update(b.contiguous().numpy().tobytes())
        return digest.hexdigest()

    def initialize(self, peft_model: torch.nn.Module, lora_scale: float) -> None:
        """Load `initial` into the LoRA layers, rescaled to this LoRA's alpha/r so that ΔW is unchanged, and check
        that the student honours the packed layout."""
        self.check_layout(peft_model)
        if not self.initial:
            return
        layers = {name.removeprefix("base_model.model."): module for name, module in peft_model.named_modules()
                  if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {})}
        with torch.no_grad():
            for path, (a, b) in self.initial.items():
                layer = layers.get(path)
                if layer is None:
                    continue
                lora_a, lora_b = layer.lora_A["default"].weight, layer.lora_B["default"].weight
                if lora_a.shape != a.shape or lora_b.shape != b.shape:
                    raise PawError(f"{path}: initial LoRA factors {tuple(b.shape)}·{tuple(a.shape)} do not fit the "
                                   f"student's {tuple(lora_b.shape)}·{tuple(lora_a.shape)} — expected lora.r equal "
                                   "to the source adapter's r")
                lora_a.copy_(a.to(lora_a.dtype))
                lora_b.copy_((b * (self.initial_scale / lora_scale)).to(lora_b.dtype))



    def check_layout(self, model: torch.nn.Module) -> None:
        """Score the question with the longest choices packed and one row per choice: a student whose
        architecture ignores the packed masks would score them differently, and trains unpacked instead."""
        if not self.share_context or not self.prepared:
            return
        sample = max(self.prepared, key=lambda ex: min(s.n_answer for s in ex.sequences))
        packed, plain = collate_distill([sample], 0, packed=True), collate_distill([sample], 0)
        device = next(model.parameters()).device
        packed, plain = ({k: v.to(device) for k, v in b.items()} for b in (packed, plain))
        half = next(model.parameters()).dtype in (torch.bfloat16, torch.float16)
        was_training = model.training
        model.eval()  # no dropout: the two layouts must be compared on the same function
        try:
            with torch.no_grad():
                shared = packed_logprobs(model, packed)
                separate = sequence_logprobs(model, plain)[0]
                causal = packed_logprobs(model, packed, masked=False) if half else shared
            agree = layouts_agree(shared.double().cpu(), separate.double().cpu(), causal.double().cpu(), half)
        except (TypeError, ValueError, RuntimeError, AttributeError):
            agree = False
        finally:
            model.train(was_training)
        if not agree:
            print("note: the student's architecture ignores custom attention masks; it reads one row per choice",
                  flush=True)
            self.share_context = False
