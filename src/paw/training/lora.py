"""The plain model layer: a causal LM with PEFT LoRA layers, and the answer-only loss.

No Lightning here: `add_lora` and `answer_loss` are ordinary PyTorch, used by the LightningModule, the throughput
benchmark's plain loop and the tests alike. Scores come from paw.scoring (`answer_logprobs`, `sequence_logprobs`:
the output head only on the positions that predict an answer token), re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from paw.errors import PawError
from paw.scoring import answer_logprobs, sequence_logprobs
from paw.training.params import LoraParams

__all__ = ["LoraTargets", "add_lora", "answer_logprobs", "answer_loss", "find_targets", "sequence_logprobs"]


@dataclass(frozen=True)
class LoraTargets:
    """Which requested target modules the architecture has, and which it lacks (reported, never silently dropped)."""

    present: tuple[str, ...]
    missing: tuple[str, ...]


def find_targets(model: nn.Module, requested: tuple[str, ...]) -> LoraTargets:
    linear_names = {name.rsplit(".", 1)[-1] for name, module in model.named_modules() if isinstance(module, nn.Linear)}
    present = tuple(sorted(m for m in set(requested) if m in linear_names))
    missing = tuple(sorted(m for m in set(requested) if m not in linear_names))
    if not present:
        raise PawError(
            f"lora.target_modules = {list(requested)} — none is a Linear module of this model "
            f"(it has {', '.join(sorted(linear_names))})"
        )
    return LoraTargets(present, missing)


def add_lora(model: nn.Module, lora: LoraParams, trainable_dtype: torch.dtype | None = torch.float32):
    """Wrap `model` in a PeftModel with fresh LoRA layers, in train mode (else LoRA dropout is silently off).

    Returns (peft_model, targets). LoRA weights are kept in `trainable_dtype` (fp32 under mixed precision)."""
    from peft import LoraConfig, get_peft_model

    targets = find_targets(model, lora.target_modules)
    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(targets.present),
        bias=lora.bias,
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, config)
    if trainable_dtype is not None:
        for param in peft_model.parameters():
            if param.requires_grad:
                param.data = param.data.to(trainable_dtype)
    peft_model.train()
    return peft_model, targets


def answer_loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean negative log-likelihood per answer token of the batch."""
    logprobs, _ = answer_logprobs(model, batch)
    return -logprobs.mean()
