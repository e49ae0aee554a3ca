"""`cka_layer_map`: an order-preserving match of source to target layers by the CKA of their hidden states on probe
text (the relative-depth map is `paw.transfer.layout.depth_layer_map`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paw.transfer.activations import MATCH_POSITIONS, Activations
from paw.transfer.layout import ordered_best_matching

if TYPE_CHECKING:
    import torch


def _centered_kernel(x: "torch.Tensor") -> tuple["torch.Tensor", float]:
    x = x - x.mean(0)
    kernel = x @ x.T
    return kernel, float(kernel.norm())


def cka_layer_map(acts: Activations) -> tuple[dict[int, int], float]:
    """Order-preserving layer matching maximising CKA of each layer's input and output hidden states.

    Linear CKA in kernel form, ⟨Kx, Ky⟩/(‖Kx‖‖Ky‖) with K = X·Xᵀ of centred X (equal to ‖XᵀY‖²/(‖XᵀX‖‖YᵀY‖)):
    one n×n kernel per layer boundary, then an inner product per pair — instead of a d×d product per pair, which at
    18 × 36 layers of Gemma 3 took a minute. Rows are capped at MATCH_POSITIONS to bound the kernels' size."""
    hs = [h[:MATCH_POSITIONS] for h in acts.hidden_source]
    ht = [h[:MATCH_POSITIONS] for h in acts.hidden_target]
    ks, kt = [_centered_kernel(h) for h in hs], [_centered_kernel(h) for h in ht]

    def cka(a, b) -> float:
        return float((a[0] * b[0]).sum()) / (a[1] * b[1]) if a[1] > 0 and b[1] > 0 else 0.0

    n_s, n_t = len(hs) - 1, len(ht) - 1
    scores = [[cka(kt[j], ks[i]) + cka(kt[j + 1], ks[i + 1]) for i in range(n_s)] for j in range(n_t)]
    mapping = ordered_best_matching(scores)
    mean = sum(scores[j][i] for j, i in mapping.items()) / (2 * max(1, len(mapping)))
    return mapping, mean

