"""Where a model's adaptable linear modules are, whatever the architecture calls its blocks.

Llama, Qwen2, Gemma2 and Gemma3 all name decoder blocks `….layers.<i>.<block>.<kind>` with kinds q/k/v/o_proj and
gate/up/down_proj; modules are matched across models by (layer, kind), layers by a layer map (relative depth or
activation similarity), never by identical full names only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch.nn as nn

_LAYER_PATH = re.compile(r"^(?P<stem>.*?\.layers)\.(?P<layer>\d+)\.(?P<rest>.+)$")

# How each kind touches the residual stream: it reads it (input side) or writes it (output side).
READS_RESIDUAL = ("q_proj", "k_proj", "v_proj", "gate_proj", "up_proj")
WRITES_RESIDUAL = ("o_proj", "down_proj")


@dataclass(frozen=True)
class LinearSite:
    path: str  # full module path, e.g. model.layers.3.self_attn.q_proj
    layer: int
    kind: str  # last name component, e.g. q_proj
    out_features: int
    in_features: int


@dataclass(frozen=True)
class Layout:
    n_layers: int
    hidden_size: int
    sites: dict[tuple[int, str], LinearSite]  # (layer, kind) -> site

    def kinds(self) -> set[str]:
        return {kind for _, kind in self.sites}


def parse_path(path: str) -> tuple[int, str] | None:
    match = _LAYER_PATH.match(path)
    if match is None:
        return None
    return int(match["layer"]), match["rest"].rsplit(".", 1)[-1]


def model_layout(model: "nn.Module") -> Layout:
    sites: dict[tuple[int, str], LinearSite] = {}
    for path, module in model.named_modules():
        if not hasattr(module, "in_features") or not hasattr(module, "weight"):
            continue
        parsed = parse_path(path)
        if parsed is None:
            continue
        layer, kind = parsed
        sites[(layer, kind)] = LinearSite(path, layer, kind, module.out_features, module.in_features)
    config = model.config
    config = getattr(config, "text_config", None) or config
    n_layers = int(getattr(config, "num_hidden_layers", 0) or (1 + max((l for l, _ in sites), default=-1)))
    return Layout(n_layers=n_layers, hidden_size=int(config.hidden_size), sites=sites)


def depth_layer_map(n_source: int, n_target: int) -> dict[int, int]:
    """Target layer j -> the source layer at the same relative depth (the identity when the counts match)."""
    return {j: min(n_source - 1, int((j + 0.5) * n_source / n_target)) for j in range(n_target)}


def ordered_best_matching(scores: list[list[float]]) -> dict[int, int]:
    """Order-preserving one-to-one matching of target layers (rows) to source layers (columns) that maximises the
    summed score and pairs min(rows, cols) layers; unmatched layers get no adapter (LoRASuite's dynamic program)."""
    n_t, n_s = len(scores), len(scores[0])
    need = min(n_t, n_s)
    neg = float("-inf")
    # Classic alignment DP; skipping a layer is allowed only on the longer side, so exactly `need` pairs result.
    best = [[neg] * (n_s + 1) for _ in range(n_t + 1)]
    choice: dict[tuple[int, int], str] = {}
    best[0][0] = 0.0
    for j in range(n_t + 1):
        for i in range(n_s + 1):
            if j == 0 and i == 0:
                continue
            options = []
            if j > 0 and i > 0 and best[j - 1][i - 1] > neg:
                options.append((best[j - 1][i - 1] + scores[j - 1][i - 1], "match"))
            if j > 0 and n_t > n_s and best[j - 1][i] > neg:
                options.append((best[j - 1][i], "skip_target"))
            if i > 0 and n_s > n_t and best[j][i - 1] > neg:
                options.append((best[j][i - 1], "skip_source"))
            if options:
                best[j][i], choice[(j, i)] = max(options, key=lambda o: o[0])
    mapping: dict[int, int] = {}
    j, i = n_t, n_s
    while j > 0 or i > 0:
        step = choice[(j, i)]
        if step == "match":
            mapping[j - 1] = i - 1
            j, i = j - 1, i - 1
        elif step == "skip_target":
            j -= 1
        else:
            i -= 1
    assert len(mapping) == need
    return mapping
