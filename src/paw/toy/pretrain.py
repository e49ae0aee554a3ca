"""Plain, seeded next-token pretraining of the toy bases on the toy corpus (one thread, deterministic).

Corpus lines are tokenised once; each epoch shuffles them (by seed and epoch) and packs them, each as
BOS + line + EOS, into fixed-length sequences.
"""

from __future__ import annotations

import math
import random
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerFast


def tokenize_lines(tokenizer: "PreTrainedTokenizerFast", lines: list[str]) -> list[list[int]]:
    return tokenizer(lines, add_special_tokens=False)["input_ids"]


def pack_epoch(lines: list[list[int]], seq_len: int, bos: int, eos: int, seed: int) -> list[list[int]]:
    """One epoch of full sequences cut from BOS line EOS BOS line EOS ...; the last partial sequence is dropped.

    Every line starts with BOS, as every evaluated prompt does, so facts are learnt in the context they are probed in.
    """
    order = list(range(len(lines)))
    random.Random(seed).shuffle(order)
    stream: list[int] = []
    for i in order:
        stream.append(bos)
        stream.extend(lines[i])
        stream.append(eos)
    return [stream[k : k + seq_len] for k in range(0, len(stream) - seq_len + 1, seq_len)]


def batches(lines: list[list[int]], seq_len: int, batch_size: int, bos: int, eos: int, seed: int):
    """Endless stream of (batch_size × seq_len) LongTensors, reshuffled every epoch."""
    import torch

    epoch = 0
    while True:
        sequences = pack_epoch(lines, seq_len, bos, eos, seed * 1000 + epoch)
        if not sequences:
            raise ValueError("the toy corpus is shorter than one sequence; lower toy.seq_len")
        for k in range(0, len(sequences) - batch_size + 1, batch_size):
            yield torch.tensor(sequences[k : k + batch_size])
        epoch += 1


def pretrain(
    model: "PreTrainedModel",
    lines: list[list[int]],
    *,
    steps: int,
    lr: float,
    seq_len: int,
    batch_size: int,
    bos: int,
    eos: int,
    seed: int,
    log_every: int = 100,
    name: str = "model",
) -> dict:
    """Train all weights for `steps` AdamW steps (short warmup, cosine decay to 10%); returns loss and seconds."""
    import torch

    torch.manual_seed(seed)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0, betas=(0.9, 0.98))
    warmup = max(1, min(30, steps // 5))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    stream = batches(lines, seq_len, batch_size, bos, eos, seed)
    start, loss_value = time.perf_counter(), float("nan")
    for step in range(steps):
        batch = next(stream)
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        loss_value = loss.item()
        if log_every and (step + 1) % log_every == 0:
            seconds = time.perf_counter() - start
            print(f"{name}: step {step + 1}/{steps} loss {loss_value:.3f} ({seconds:.0f} s)", flush=True)
    model.eval()
    return {"steps": steps, "final_loss": round(loss_value, 4), "seconds": round(time.perf_counter() - start, 1)}
