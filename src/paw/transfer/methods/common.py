"""Small building blocks shared by methods: the identity carry, same-shape checks, the layer-map choices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paw.errors import PawError
from paw.transfer.layout import depth_layer_map

if TYPE_CHECKING:
    import torch

    from paw.transfer.context import ModulePair, TransferContext

LAYER_MAPS = ("depth", "cka")


def identity(x: "torch.Tensor") -> "torch.Tensor":
    return x


def require_same_shapes(method: str, ctx: "TransferContext") -> None:
    """Copy-style methods need every module the adapter touches to have the same shape in both bases."""
    layer_map = depth_layer_map(ctx.source_layout.n_layers, ctx.target_layout.n_layers)
    for (layer, kind), site in sorted(ctx.target_layout.sites.items()):
        source = ctx.source_layout.sites.get((layer_map[layer], kind))
        if source is None or source.path not in ctx.adapter:
            continue
        if (source.out_features, source.in_features) != (site.out_features, site.in_features):
            raise PawError(
                f"transfer.method = {method} needs identical module shapes, but {kind} is "
                f"{source.out_features}×{source.in_features} in {ctx.source_dir.name} and "
                f"{site.out_features}×{site.in_features} in {ctx.target_dir.name} — use aligned or activation"
            )


def same_dims(pair: "ModulePair") -> bool:
    return (pair.source.out_features, pair.source.in_features) == (pair.target.out_features, pair.target.in_features)
