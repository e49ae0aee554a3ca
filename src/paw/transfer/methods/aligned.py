"""`aligned` (LoRASuite-style): for bases with different hidden sizes, layer counts, heads and vocabularies.

1. Residual-stream maps F (source→target) and G (target→source), fitted by least squares on the input embeddings of
   the tokens both vocabularies share (`paw.transfer.token_maps.shared_token_maps`).
2. A layer map: relative depth, or (`layer_map: cka`) an order-preserving match of hidden-state CKA on probe text;
   unmatched target layers get no adapter.
3. Per module, the side that touches the residual stream is carried by F or G. The other side (attention head
   space, MLP intermediate) is carried by a map Z fitted in weight space, Z·Ws·G ≈ Wt, restricted to the rank-k
   SVD subspaces (ridge-regularised); where the two dimensions match, the part outside the source subspace is carried
   onto the target's complementary subspace (as ProLoRA). K/V spaces are mapped between the real key/value widths,
   so grouped-query attention with different group counts needs no head expansion.
4. The engine re-factors the result to rank r (B = U√S, A = √S·Vᵀ).
"""

from __future__ import annotations

from dataclasses import dataclass

from paw.fields import non_negative, param
from paw.transfer.layout import READS_RESIDUAL, WRITES_RESIDUAL
from paw.transfer.methods.options import ProbeOptions
from paw.transfer.registry import ModulePlan, SkipModule, TransferMethod, register
from paw.transfer.token_maps import shared_token_maps


@dataclass(frozen=True)
class AlignedOptions(ProbeOptions):
    # Relative ridge of the embedding fits F and G: real vocabularies share thousands of tokens, so it can be tiny.
    embedding_ridge: float = param(1.0e-6, check=non_negative, expect="a non-negative number")


def internal_carry(us, ss, vs, ut, st, vt, g, ridge: float, same_dim: bool):
    """Map x (source internal space) to the target's: Z = Ut·C·Usᵀ with C fitted so that Z·Ws·G ≈ Wt."""
    import torch

    p = ss[:, None] * (vs.T @ g)  # k_s × d_t: source weight read from the target residual, in its own basis
    t = st[:, None] * vt.T  # k_t × d_t
    gram = (p @ p.T).double()
    lam = ridge * float(gram.trace()) / max(1, gram.shape[0])
    c = (t.double() @ p.T.double() @ torch.linalg.inv(gram + lam * torch.eye(gram.shape[0], dtype=gram.dtype))).float()

    def carry(x):
        inside = us.T @ x
        mapped = ut @ (c @ inside)
        if same_dim:
            rest = x - us @ inside
            mapped = mapped + rest - ut @ (ut.T @ rest)
        return mapped

    return carry


@register
class Aligned(TransferMethod):
    name = "aligned"
    Options = AlignedOptions
    summary = "embedding-fitted residual maps + weight-fitted internal maps, depth or CKA layer map"

    def prepare(self, ctx, pairs):
        maps = shared_token_maps(ctx, self.options.embedding_ridge)
        self.maps = maps  # this run's embedding-fitted maps (one instance per run)
        return {"shared_tokens": maps.shared_tokens, "alignment_residual": round(maps.residual, 4)}

    def plan(self, ctx, pair):
        maps = self.maps
        fs, ft = ctx.factors("source", pair.source.path), ctx.factors("target", pair.target.path)
        kind = pair.target.kind
        if kind in READS_RESIDUAL:
            g = maps.backward  # d_s × d_t
            internal = internal_carry(fs.U, fs.S, fs.V, ft.U, ft.S, ft.V, g, self.options.ridge,
                                      pair.source.out_features == pair.target.out_features)
            return ModulePlan(left=internal, right=lambda x: g.T @ x, compare_sides=("right",))
        if kind in WRITES_RESIDUAL:
            f = maps.forward  # d_t × d_s
            # Transposed problem: Wtᵀ ≈ Nᵀ·Wsᵀ·Fᵀ, so the input side is an "internal" map of the transposed weights.
            internal = internal_carry(fs.V, fs.S, fs.U, ft.V, ft.S, ft.U, f.T, self.options.ridge,
                                      pair.source.in_features == pair.target.in_features)
            return ModulePlan(left=lambda x: f @ x, right=internal, compare_sides=("left",))
        raise SkipModule(f"{kind} neither reads nor writes the residual stream in a known way")
