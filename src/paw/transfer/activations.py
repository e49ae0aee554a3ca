"""`paired_activations`: both bases run on the same probe texts, one base in memory at a time; positions are paired
where both tokenizers end a token at the same character, so different vocabularies still give row-aligned
activation matrices. Forward hooks collect each listed module's inputs and outputs (to disk) and the residual
stream at every layer boundary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from paw.errors import PawError
from paw.transfer.layout import model_layout, parse_path
from paw.transfer.progress import step
from paw.transfer.spill import SpilledActivations

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
    inputs: SpilledActivations  # (side, module path) -> n × in, on disk until read
    outputs: SpilledActivations
    positions: int


@dataclass(frozen=True)
class PairedText:
    """One probe text as each base reads it: its token ids and, per side, the positions kept (where both
    tokenizers end a token at the same character), in the same order on both sides."""

    ids: dict[str, list[int]]
    keep: dict[str, list[int]]


def pair_positions(ctx: "TransferContext", texts: list[str], max_length: int, max_positions: int) -> list[PairedText]:
    """The probe texts' shared positions, from the two tokenizers alone, until `max_positions` are collected."""
    paired, total = [], 0
    for text in texts:
        ids_s, ends_s = _end_positions(ctx.tokenizer("source"), text, max_length)
        ids_t, ends_t = _end_positions(ctx.tokenizer("target"), text, max_length)
        shared = sorted(set(ends_s) & set(ends_t))[: max_positions - total]
        if not shared:
            continue
        paired.append(PairedText({"source": ids_s, "target": ids_t},
                                 {"source": [ends_s[c] for c in shared], "target": [ends_t[c] for c in shared]}))
        total += len(shared)
        if total >= max_positions:
            break
    if total < 2:
        raise PawError("the probe text gave fewer than 2 positions both tokenizers split alike — give more text")
    return paired


def paired_activations(ctx: "TransferContext", max_texts: int, max_length: int, max_positions: int,
                       source_paths: list[str], target_paths: list[str], hidden: bool = True,
                       wanted: set[tuple[str, str, str]] | None = None) -> Activations:
    """Run each base over the probe texts in turn — the source, freed, then the target — keeping positions where
    both tokenizers end a token at one char, so the rows of the two sides pair up.

    Collects each listed module's inputs and outputs — or, given `wanted` ({("inputs"|"outputs", side, path)}),
    only those: modules that read one input (q/k/v) need it stored once — into files (`SpilledActivations`): on
    real models they are most of a carry's memory, and a fit reads one layer's. With `hidden`, also the residual
    stream at every layer boundary (in memory). Without `hidden` a pass stops after the deepest layer holding a
    listed module. With no module paths (layer matching alone) at most MATCH_POSITIONS positions are read."""
    if not source_paths and not target_paths:
        max_positions = min(max_positions, MATCH_POSITIONS)
    paired = pair_positions(ctx, ctx.probe_texts()[:max_texts], max_length, max_positions)
    inputs, outputs = SpilledActivations(), SpilledActivations()
    hidden_states = {side: _probe_side(ctx, side, paired, paths, inputs, outputs, hidden, wanted)
                     for side, paths in (("source", source_paths), ("target", target_paths))}
    return Activations(hidden_source=hidden_states["source"], hidden_target=hidden_states["target"],
                       inputs=inputs, outputs=outputs, positions=sum(len(text.keep["source"]) for text in paired))


def _probe_side(ctx: "TransferContext", side: str, paired: list[PairedText], paths: list[str],
                inputs: SpilledActivations, outputs: SpilledActivations, hidden: bool, wanted) -> list:
    """One base's passes over every probe text; the base is freed when the block ends (its name is dropped inside
    it), before the other side's is loaded. Returns its residual stream per layer boundary (empty without
    `hidden`)."""
    import torch

    base, per_layer = ctx.base(side), []
    with base.loaded() as model:
        for i, text in enumerate(paired, 1):
            step(i, len(paired), f"probe texts through {side} {base.name}")
            states = _run_model(model, text.ids[side], torch.tensor(text.keep[side]), paths, side, inputs, outputs,
                                hidden, wanted)
            per_layer = per_layer or [[] for _ in states]
            for bucket, state in zip(per_layer, states):
                bucket.append(state)
        del model  # `loaded()` collects once no reference is left
    return [torch.cat(chunks, 0) for chunks in per_layer]


class _DeepEnough(Exception):
    """Raised after the deepest layer a run needs, ending the forward pass there."""


def _run_model(model, ids: list[int], keep, paths: list[str], side: str, inputs: SpilledActivations,
               outputs: SpilledActivations, hidden: bool, wanted: set | None = None) -> list:
    """One forward pass over `ids`, appending the kept positions of each path's input and output (those `wanted`)
    to the stores; returns the residual stream at each layer boundary (empty without `hidden`)."""
    import torch

    hidden_last: list = []
    hooks = [last_layer_hook(model, keep, hidden_last)] if hidden else []
    for path in paths:
        reshape = per_head_norm(model, path)
        want_in = wanted is None or ("inputs", side, path) in wanted
        want_out = wanted is None or ("outputs", side, path) in wanted

        def hook(module, args, out, key=(side, path), reshape=reshape, want_in=want_in, want_out=want_out):
            if want_in:
                inputs.append(key, args[0][0, keep].detach().float())
            if want_out:
                outputs.append(key, reshape(out[0, keep].detach().float()))
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
    layout = model_layout(model)
    site = next(s for (index, _), s in sorted(layout.sites.items()) if index == layer)
    return model.get_submodule(site.path.split(f".layers.{layer}.")[0] + f".layers.{layer}")


def last_layer_hook(model, keep, sink: list):
    """Capture the residual stream leaving the last decoder layer (before the final norm) into `sink`."""
    def hook(module, args, out):
        tensor = out[0] if isinstance(out, tuple) else out
        sink.append(tensor[0, keep].detach().float())

    return _block(model, model_layout(model).n_layers - 1).register_forward_hook(hook)
