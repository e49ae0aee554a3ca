"""`projection` (LoRA-X): ΔWt = Ut·Utᵀ·ΔWs·Vt·Vtᵀ — the update projected into the target weight's top-k subspaces.

Same dimensions only; it assumes the target derives from the source. Modules whose subspaces differ (similarity
below `transfer.threshold`) get no adapter, as LoRA-X's filter blocks."""

from __future__ import annotations

from paw.transfer.methods.common import identity, require_same_shapes
from paw.transfer.registry import ModulePlan, TransferMethod, register


@register
class Projection(TransferMethod):
    name = "projection"
    summary = "ΔWt = Ut·Utᵀ·ΔWs·Vt·Vtᵀ (LoRA-X; identical shapes only)"

    def check_pair(self, ctx):
        require_same_shapes(self.name, ctx)

    def plan(self, ctx, pair):
        return ModulePlan(left=identity, right=identity, project=True)
