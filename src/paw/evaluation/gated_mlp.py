"""The decoder's gated MLPs computed in place while scoring.

A Llama-style MLP is down(act(gate(x)) * up(x)). Written as models write it, the activation and the product each
allocate a fresh [positions × intermediate] tensor; here both are written into the gate projection's output, which
nothing else reads. The values are the same elementwise operations on the same inputs, so scores are bit-identical
— and that is checked on each MLP class before it is used (`runs_alike`), not assumed from its attribute names.
Measured on Qwen2.5-Coder-0.5B, 100 ARC-Easy rows, one thread: about 1% of the scoring time.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Iterator

from paw.evaluation.last_layer import DENSE_MLP

if TYPE_CHECKING:
    import torch


def is_silu(activation) -> bool:
    import torch
    from transformers.activations import SiLUActivation

    return isinstance(activation, (torch.nn.SiLU, SiLUActivation))


def in_place_forward(mlp, hidden: "torch.Tensor", silu: bool) -> "torch.Tensor":
    """`mlp`'s forward with the activation (in place too when `silu`) and the product in the gate's output."""
    import torch

    gate = mlp.gate_proj(hidden)
    if silu:
        activated = torch.nn.functional.silu(gate, inplace=True)
    else:
        activated = mlp.act_fn(gate)  # a fresh tensor: the product may overwrite it
    return mlp.down_proj(activated.mul_(mlp.up_proj(hidden)))


def runs_alike(mlp) -> bool:
    """Whether the in-place forward equals the MLP's own, bit for bit, on a few random rows."""
    import torch

    weight = mlp.gate_proj.weight
    generator = torch.Generator(device=weight.device).manual_seed(0)
    rows = torch.randn(3, weight.shape[1], generator=generator, device=weight.device).to(weight.dtype)
    with torch.inference_mode():
        try:
            return torch.equal(mlp(rows), in_place_forward(mlp, rows, is_silu(mlp.act_fn)))
        except (TypeError, ValueError, RuntimeError, AttributeError):
            return False


@contextmanager
def gated_mlps_in_place(backbone) -> Iterator[None]:
    """Within the block (inference only: the overwritten tensors must not be needed for gradients), every gated
    MLP of `backbone`'s layers whose class passes `runs_alike` computes in place; the others run unchanged."""
    verdicts: dict[type, bool] = {}
    patched = []
    for layer in getattr(backbone, "layers", None) or []:
        mlp = getattr(layer, "mlp", None)
        if mlp is None or not all(hasattr(mlp, name) for name in (*DENSE_MLP, "act_fn")):
            continue
        if type(mlp) not in verdicts:
            verdicts[type(mlp)] = runs_alike(mlp)
        if verdicts[type(mlp)]:
            # An instance attribute over the class's forward: hooks, parameters and state dict stay as they are.
            mlp.forward = partial(in_place_forward, mlp, silu=is_silu(mlp.act_fn))
            patched.append(mlp)
    try:
        yield
    finally:
        for mlp in patched:
            del mlp.forward
