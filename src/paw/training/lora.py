"""The plain model layer: a causal LM with PEFT LoRA layers, and answer-only scoring.

No Lightning here: `add_lora` and `answer_logprobs` are ordinary PyTorch, used by the LightningModule, the
throughput benchmark's plain loop and the tests alike.

The output head (a vocab-sized matmul, the largest single cost for small models with big vocabularies) runs only
on the positions whose next token is an answer token — the only logits the loss or a score ever reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from paw.errors import PawError
from paw.training.examples import IGNORE
from paw.training.params import LoraParams


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


def _causal_lm(model: nn.Module) -> nn.Module:
    """The transformers CausalLM inside a PeftModel (LoRA layers are injected into it in place)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def answer_logprobs(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probabilities of the answer tokens, flattened: (logprobs [K], row index of each [K]).

    Runs the decoder over the whole batch, then the output head only on the K positions that predict an answer."""
    lm = _causal_lm(model)
    hidden = lm.get_decoder()(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    targets = batch["targets"]
    mask = targets != IGNORE
    logits = lm.get_output_embeddings()(hidden[mask]).float()
    cap = getattr(lm.config, "final_logit_softcapping", None)
    if cap:  # Gemma 2 squashes its logits; scores must match the model's own forward
        logits = torch.tanh(logits / cap) * cap
    picked = targets[mask]
    logprobs = logits.gather(-1, picked.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)
    rows = torch.arange(targets.shape[0], device=targets.device).unsqueeze(1).expand_as(targets)[mask]
    return logprobs, rows


def answer_loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Mean negative log-likelihood per answer token of the batch."""
    logprobs, _ = answer_logprobs(model, batch)
    return -logprobs.mean()


def sequence_logprobs(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(sum of answer-token log-probs per row [B], answer tokens per row [B]) — lm-eval's loglikelihood."""
    logprobs, rows = answer_logprobs(model, batch)
    n_rows = batch["targets"].shape[0]
    sums = torch.zeros(n_rows, dtype=logprobs.dtype, device=logprobs.device).index_add_(0, rows, logprobs)
    counts = torch.zeros(n_rows, dtype=torch.long, device=rows.device).index_add_(0, rows, torch.ones_like(rows))
    return sums, counts
