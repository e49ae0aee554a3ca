"""`copy`: the source update unchanged, module by module (bases with identical shapes, e.g. base → instruct).

The baseline every transfer method must beat; between closely related bases it often wins."""

from __future__ import annotations

from paw.transfer.methods.common import identity, require_same_shapes
from paw.transfer.registry import ModulePlan, TransferMethod, register


@register
class Copy(TransferMethod):
    name = "copy"
    summary = "ΔWt = ΔWs (identical shapes only)"

    def check_pair(self, ctx):
        require_same_shapes(self.name, ctx)

    def plan(self, ctx, pair):
        return ModulePlan(left=identity, right=identity)
