"""`paired_activations`: both bases run on the same probe texts; positions are paired where both tokenizers end a
token at the same character, so different vocabularies still give row-aligned activation matrices. Forward hooks
collect each listed module's inputs and outputs and the residual stream at every layer boundary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from paw.errors import PawError
from paw.transfer.layout import parse_path

if TYPE_CHECKING:
    import torch

    from paw.transfer.context import TransferContext

# Layer matching needs a stable similarity score, not full-rank fits; every position it reads costs a pass of both
# bases through all their layers, so a run for layer matching alone (no module paths) reads at most this many.
MATCH_POSITIONS = 1024


def _end_positions(tokenizer, text: str, max_length: int) -> tuple[list[int], dict[int, int]]:
    encoded = tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=max_length)
    ends = {}
    for position, (start, end) in enumerate(encoded["offset_mapping"]):
        if end > start:  # special tokens (BOS) have empty spans
            ends[end] = position
    return encoded["input_ids"], ends


@dataclass
class Activations:
    hidden_source: list["torch.Tensor"]  # per layer boundary (0 = embeddings), n × d_s
    hidden_target: list["torch.Tensor"]
    inputs: dict[tuple[str, str], "torch.Tensor"]  # (side, module path) -> n × in
    outputs: dict[tuple[str, str], "torch.Tensor"]
    positions: int


def paired_activations(ctx: "TransferContext", max_texts: int, max_length: int, max_positions: int,
                       source_paths: list[str], target_paths: list[str], hidden: bool = True,
                       wanted: set[tuple[str, str, str]] | None = None) -> Activations:
    """Run both bases over the probe texts, keeping positions where both tokenizers end a token at one char.

    Collects each listed module's inputs and outputs — or, given `wanted` ({("inputs"|"outputs", side, path)}),
    only those: modules that read one input (q/k/v) need it stored once, and on real models the activations are
    most of a carry's memory. With `hidden`, also the residual stream at every layer boundary. Without `hidden` a
    pass stops after the deepest layer holding a listed module. With no module paths (layer matching alone) at most
    MATCH_POSITIONS positions are read."""
    import torch

    if not source_paths and not target_paths:
        max_positions = min(max_positions, MATCH_POSITIONS)
    texts = ctx.probe_texts()[:max_texts]
    states_by_side: dict[str, list] = {"source": [], "target": []}
    keys = [("source", p) for p in source_paths] + [("target", p) for p in target_paths]
    inputs: dict[tuple[str, str], list] = {key: [] for key in keys}
    outputs: dict[tuple[str, str], list] = {key: [] for key in keys}
    total = 0
    for text in texts:
        ids_s, ends_s = _end_positions(ctx.tokenizer("source"), text, max_length)
        ids_t, ends_t = _end_positions(ctx.tokenizer("target"), text, max_length)
        shared = sorted(set(ends_s) & set(ends_t))[: max_positions - total]
        if not shared:
            continue
        runs = (("source", ids_s, ends_s, source_paths), ("target", ids_t, ends_t, target_paths))
        for side, ids, ends, paths in runs:
            keep = torch.tensor([ends[c] for c in shared])
            model = ctx.source_model if side == "source" else ctx.target_model
            states = _run_model(model, ids, keep, paths, side, inputs, outputs, hidden, wanted)
            if not states_by_side[side]:
                states_by_side[side] = [[] for _ in states]
            for bucket, state in zip(states_by_side[side], states):
                bucket.append(state)
        total += len(shared)
        if total >= max_positions:
            break
    if total < 2:
        raise PawError("the probe text gave fewer than 2 positions both tokenizers split alike — give more text")
    cat = lambda chunks: torch.cat(chunks, 0)  # noqa: E731
    return Activations(
        hidden_source=[cat(c) for c in states_by_side["source"]],
        hidden_target=[cat(c) for c in states_by_side["target"]],
        inputs={p: cat(c) for p, c in inputs.items() if c},
        outputs={p: cat(c) for p, c in outputs.items() if c},
        positions=total,
    )


class _DeepEnough(Exception):
    """Raised after the deepest layer a run needs, ending the forward pass there."""


def _run_model(model, ids: list[int], keep, paths: list[str], side: str, inputs: dict, outputs: dict,
               hidden: bool, wanted: set | None = None) -> list:
    """One forward pass over `ids`, appending the kept positions of each path's input and output (those `wanted`)
    to the buckets; returns the residual stream at each layer boundary (empty without `hidden`)."""
    import torch

    hidden_last: list = []
    hooks = [last_layer_hook(model, keep, hidden_last)] if hidden else []
    for path in paths:
        reshape = per_head_norm(model, path)
        want_in = wanted is None or ("inputs", side, path) in wanted
        want_out = wanted is None or ("outputs", side, path) in wanted

        def hook(module, args, out, key=(side, path), reshape=reshape, want_in=want_in, want_out=want_out):
            if want_in:
                inputs[key].append(args[0][0, keep].detach().float())
            if want_out:
                outputs[key].append(reshape(out[0, keep].detach().float()))
        hooks.append(model.get_submodule(path).register_forward_hook(hook))
    if not hidden and paths:
        hooks.append(_block(model, max(parse_path(p)[0] for p in paths)).register_forward_hook(_stop))
    try:
        # The decoder alone: hidden states are all that is needed, and a 262k-word output head is not.
        decoder = model.get_decoder() if hasattr(model, "get_decoder") else model
        with torch.no_grad():
            result = decoder(input_ids=torch.tensor([ids]), output_hidden_states=hidden, use_cache=False)
    except _DeepEnough:
        return []
    finally:
        for handle in hooks:
            handle.remove()
    if not hidden:
        return []
    # Hugging Face's last hidden state is after the final norm; layer matching needs the raw residual.
    return [h[0, keep].detach().float() for h in result.hidden_states[:-1]] + hidden_last


def _stop(module, args, out):
    raise _DeepEnough


def per_head_norm(model, path: str):
    """The attention reads q and k only after a per-head RMS norm where the model has one (`q_norm`/`k_norm`, as in
    Gemma 3 and Qwen3), so their maps are fitted on per-head-normalised outputs. This also makes the fit well posed
    when q is wider than the residual stream (Gemma 3 270M: 1024 from 640): raw q outputs span only as many
    directions as the residual, and a fit on them drops the adapter's other directions; normalised per head, each
    head is scaled by its own factor per position and the outputs span the full width. The map stays one on raw q
    coordinates: per head the norm only rescales each position."""
    parsed = parse_path(path)
    norm = None
    if parsed is not None and parsed[1] in ("q_proj", "k_proj"):
        parent = model.get_submodule(path.rsplit(".", 1)[0])
        norm = getattr(parent, parsed[1][0] + "_norm", None)
    weight = getattr(norm, "weight", None)
    width = int(weight.numel()) if weight is not None else 0  # head_dim (or the whole width, for a joint norm)

    def identity(out):
        return out

    def normalised(out):
        if out.shape[-1] % width:
            return out
        heads = out.reshape(out.shape[0], -1, width)
        rms = heads.pow(2).mean(-1, keepdim=True).sqrt().clamp_min(1e-12)
        return (heads / rms).reshape(out.shape)

    return normalised if width else identity


def _block(model, layer: int):
    """The decoder block holding layer `layer`'s modules."""
    from paw.transfer.layout import model_layout

    layout = model_layout(model)
    site = next(s for (index, _), s in sorted(layout.sites.items()) if index == layer)
    return model.get_submodule(site.path.split(f".layers.{layer}.")[0] + f".layers.{layer}")


def last_layer_hook(model, keep, sink: list):
    """Capture the residual stream leaving the last decoder layer (before the final norm) into `sink`."""
    from paw.transfer.layout import model_layout

    def hook(module, args, out):
        tensor = out[0] if isinstance(out, tuple) else out
        sink.append(tensor[0, keep].detach().float())

    return _block(model, model_layout(model).n_layers - 1).register_forward_hook(hook)
