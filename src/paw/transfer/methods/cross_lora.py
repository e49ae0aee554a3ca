"""`cross_lora` (Cross-LoRA): Bt = Ut·Usᵀ·Bs and At = As·Vs·Vtᵀ, i.e. source singular direction i is carried to
target singular direction i (both from the rank-k SVDs of the base weights). Works for any dimensions.

Similarity is the subspace overlap when the shapes match; across different shapes there is no common space to
compare in, so it is reported as null and `transfer.threshold` does not apply."""

from __future__ import annotations

from paw.transfer.methods.common import identity, same_dims
from paw.transfer.registry import ModulePlan, TransferMethod, register


@register
class CrossLora(TransferMethod):
    name = "cross_lora"
    summary = "Bt = Ut·Usᵀ·Bs, At = As·Vs·Vtᵀ (any shapes)"

    def plan(self, ctx, pair):
        fs, ft = ctx.factors("source", pair.source.path), ctx.factors("target", pair.target.path)
        k_u, k_v = min(fs.U.shape[1], ft.U.shape[1]), min(fs.V.shape[1], ft.V.shape[1])
        us, ut, vs, vt = fs.U[:, :k_u], ft.U[:, :k_u], fs.V[:, :k_v], ft.V[:, :k_v]
        left = lambda x: ut @ (us.T @ x)  # noqa: E731
        right = lambda x: vt @ (vs.T @ x)  # noqa: E731  (rows of A are input directions)
        if same_dims(pair):
            return ModulePlan(left=left, right=right, compare_left=identity, compare_right=identity)
        return ModulePlan(left=left, right=right, no_common_space=True)
