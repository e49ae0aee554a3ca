"""Evaluation on several devices (or CPU processes) through Lightning Fabric's DDP-spawn strategy.

Items are dealt out round-robin (rank r scores items r, r + world, …): no padding items, so nothing is counted
twice. Each rank writes its loglikelihoods into a full-length vector of NaN, Fabric's all_gather collects the
vectors, and every request's value comes from the one rank that scored it — the metrics are exactly the
single-device ones.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from paw.data import Item
from paw.evaluation.engine import EvalSet, prepare_model, score_eval_set


def score_distributed(model_dir: Path, adapter_dir: Path | None, eval_set: EvalSet, *, devices: int, batch_size: int,
                      dtype: str, trust_remote_code: bool, share_context: bool) -> list[list[float]]:
    import torch
    from lightning.fabric import Fabric

    accelerator = "cuda" if torch.cuda.is_available() else "cpu"
    fabric = Fabric(accelerator=accelerator, devices=devices, strategy="ddp_spawn")
    # Fabric walks the launch arguments and refuses frozen dataclasses: send the items as plain dicts.
    items = [dataclasses.asdict(item) for item in eval_set.items]
    header = (eval_set.task_name, eval_set.split, eval_set.prompt_style)
    return fabric.launch(
        _score_shard, str(model_dir), str(adapter_dir) if adapter_dir is not None else None, header, items,
        batch_size, dtype, trust_remote_code, share_context,
    )


def _score_shard(fabric, model_dir, adapter_dir, header, items, batch_size, dtype, trust_remote_code,
                 share_context) -> list[list[float]]:
    import torch

    eval_set = EvalSet(*header, [Item(**item) for item in items])
    rank, world = fabric.global_rank, fabric.world_size
    model, tokenizer = prepare_model(model_dir, adapter_dir, dtype, trust_remote_code)
    model.to(fabric.device)
    mine = list(range(rank, len(eval_set.items), world))
    shard = EvalSet(eval_set.task_name, eval_set.split, eval_set.prompt_style, [eval_set.items[i] for i in mine])
    lls = score_eval_set(model, tokenizer, shard, batch_size=batch_size, share_context=share_context,
                         progress=rank == 0)
    counts = [len(item.contexts) for item in eval_set.items]
    offsets = [0]
    for count in counts:
        offsets.append(offsets[-1] + count)
    full = torch.full((offsets[-1],), float("nan"), dtype=torch.float64)
    for index, item_lls in zip(mine, lls, strict=True):
        full[offsets[index]:offsets[index + 1]] = torch.tensor(item_lls, dtype=torch.float64)
    gathered = fabric.all_gather(full.to(fabric.device)).cpu()  # [world, n_requests]
    combined = torch.where(torch.isnan(gathered), torch.zeros_like(gathered), gathered).sum(0)
    if torch.isnan(gathered).all(0).any():
        raise RuntimeError("a request was scored by no rank")  # would be a sharding bug, never user input
    flat = combined.tolist()
    return [flat[offsets[i]:offsets[i + 1]] for i in range(len(counts))]
