"""Function-preserving growth (net2net-style) of a Llama-style source into a wider, GQA, deeper Llama-style model.

Width: every hidden unit, attention head and MLP neuron gets two copies. A copied input is read by splitting each
source weight between the two copies with random shares m and 1 - m (so the output is unchanged, but the copies
get different gradients and drift apart when trained further — equal halves would stay equal forever).
Heads: query head i becomes query heads 2i and 2i+1, which share KV head i (GQA with the source's head count as
KV heads). Depth: new blocks are inserted with zero output projections, so they add nothing to the residual stream
until trained. RMSNorm is preserved exactly because the mean square of [x, x] equals that of x.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from transformers import PretrainedConfig, PreTrainedModel


def inserted_after(n_source: int, n_extra: int) -> list[int]:
    """Source layer indices after which a new block is inserted, spread evenly over the depth."""
    return [min(n_source - 1, int((k + 0.5) * n_source / n_extra)) for k in range(n_extra)]


def layer_map(n_source: int, n_extra: int) -> dict[int, int]:
    """Source layer index -> grown layer index (the inserted blocks have no source layer)."""
    after = inserted_after(n_source, n_extra)
    mapping, position = {}, 0
    for layer in range(n_source):
        mapping[layer] = position
        position += 1 + after.count(layer)
    return mapping


def _split_columns(weight: "torch.Tensor", generator: "torch.Generator", heads: int | None = None) -> "torch.Tensor":
    """Double the input dimension: columns become copies carrying shares m and 1 - m of the source weight.

    heads=None: the input is [x, x] (hidden units tiled). heads=n: the input is n head blocks, each repeated twice
    in place (head i -> heads 2i, 2i+1).
    """
    import torch

    out_dim, in_dim = weight.shape
    grouped = weight.reshape(out_dim, heads or 1, in_dim // (heads or 1))
    share = torch.empty(out_dim, grouped.shape[1], 2, grouped.shape[2]).uniform_(0.25, 0.75, generator=generator)
    share[:, :, 1] = 1 - share[:, :, 0]
    doubled = grouped.unsqueeze(2) * share
    if heads is None:  # tiled layout [first copies | second copies]
        return doubled.permute(0, 2, 1, 3).reshape(out_dim, 2 * in_dim)
    return doubled.reshape(out_dim, 2 * in_dim)


def _tile_rows(weight: "torch.Tensor") -> "torch.Tensor":
    import torch

    return torch.cat([weight, weight], dim=0)


def _repeat_head_rows(weight: "torch.Tensor", heads: int) -> "torch.Tensor":
    out_dim, in_dim = weight.shape
    return weight.reshape(heads, out_dim // heads, in_dim).repeat_interleave(2, dim=0).reshape(2 * out_dim, in_dim)


def grow_model(source: "PreTrainedModel", config: "PretrainedConfig", seed: int) -> "PreTrainedModel":
    """A model of `config` (see architectures.grown_config) computing the same function as `source`."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    grown = AutoModelForCausalLM.from_config(config)
    generator = torch.Generator().manual_seed(seed)
    src = source.config
    heads = src.num_attention_heads
    n_extra = config.num_hidden_layers - src.num_hidden_layers
    mapping = layer_map(src.num_hidden_layers, n_extra)
    s, g = dict(source.state_dict()), grown.state_dict()
    new: dict[str, torch.Tensor] = {
        "model.embed_tokens.weight": torch.cat([s["model.embed_tokens.weight"]] * 2, dim=1),
        "model.norm.weight": torch.cat([s["model.norm.weight"]] * 2),
        "lm_head.weight": _split_columns(s["lm_head.weight"], generator),
    }
    for layer, target in mapping.items():
        a, b = f"model.layers.{layer}.", f"model.layers.{target}."
        for norm in ("input_layernorm", "post_attention_layernorm"):
            new[f"{b}{norm}.weight"] = torch.cat([s[f"{a}{norm}.weight"]] * 2)
        query = _repeat_head_rows(s[f"{a}self_attn.q_proj.weight"], heads)
        new[f"{b}self_attn.q_proj.weight"] = _split_columns(query, generator)
        for kv in ("k_proj", "v_proj"):  # KV heads keep the source's count: only their input doubles
            new[f"{b}self_attn.{kv}.weight"] = _split_columns(s[f"{a}self_attn.{kv}.weight"], generator)
        output = _tile_rows(s[f"{a}self_attn.o_proj.weight"])
        new[f"{b}self_attn.o_proj.weight"] = _split_columns(output, generator, heads)
        for up in ("gate_proj", "up_proj"):
            new[f"{b}mlp.{up}.weight"] = _split_columns(_tile_rows(s[f"{a}mlp.{up}.weight"]), generator)
        new[f"{b}mlp.down_proj.weight"] = _split_columns(_tile_rows(s[f"{a}mlp.down_proj.weight"]), generator)
    inserted = sorted(set(range(config.num_hidden_layers)) - set(mapping.values()))
    for target in inserted:  # fresh blocks that add nothing until trained
        for writer in ("self_attn.o_proj.weight", "mlp.down_proj.weight"):
            new[f"model.layers.{target}.{writer}"] = torch.zeros_like(g[f"model.layers.{target}.{writer}"])
    missing = grown.load_state_dict(new, strict=False)
    if missing.unexpected_keys:
        raise RuntimeError(f"growth produced unknown weights: {missing.unexpected_keys}")
    grown.eval()
    return grown


def growth_record(source_config: "PretrainedConfig", grown_config: "PretrainedConfig") -> dict:
    """The true source -> grown map, saved beside the grown model so transfer methods can be checked against it."""
    n_extra = grown_config.num_hidden_layers - source_config.num_hidden_layers
    return {
        "hidden": "grown unit j copies source unit j mod source hidden_size (two copies, tiled)",
        "heads": "grown query heads 2i and 2i+1 copy source head i; grown KV head i copies source KV head i",
        "mlp": "grown neuron n copies source neuron n mod source intermediate_size (two copies, tiled)",
        "layers": {str(k): v for k, v in layer_map(source_config.num_hidden_layers, n_extra).items()},
        "source_hidden_size": source_config.hidden_size,
        "grown_hidden_size": grown_config.hidden_size,
    }
