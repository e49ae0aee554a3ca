"""Carry one module's LoRA update with a method's plan, and measure it.

Similarity (0..1): mean squared cosine of the principal angles between the target weight's top-k singular
subspace and the source's subspace carried into the target space, averaged over the sides the method maps
independently of the target's SVD. Two unrelated k-dim subspaces of a d-dim space score k/d on average — the
chance level reported beside it. Energy kept: ‖Utᵀ·ΔW·Vt‖²/‖ΔW‖² of the carried update (before any projection).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paw.transfer.carried import LoraUpdate
from paw.transfer.records import ModuleRecord
from paw.transfer.registry import ModulePlan

if TYPE_CHECKING:
    import torch

    from paw.transfer.context import ModulePair, TransferContext


def subspace_similarity(mapped: "torch.Tensor", target: "torch.Tensor") -> tuple[float, float]:
    """(similarity, chance) of span(mapped) against the orthonormal columns of `target`, both in one d-dim space."""
    import torch

    q, _ = torch.linalg.qr(mapped)
    k = min(q.shape[1], target.shape[1])
    overlap = float((target.T @ q).pow(2).sum()) / max(1, k)
    chance = max(q.shape[1], target.shape[1]) / target.shape[0]
    return min(1.0, overlap), min(1.0, chance)


def frobenius(b: "torch.Tensor", a: "torch.Tensor") -> float:
    """‖B·A‖_F without forming B·A."""
    return float(((b.T @ b) * (a @ a.T)).sum().clamp_min(0).sqrt())


def refactor(b: "torch.Tensor", a: "torch.Tensor", r: int) -> tuple["torch.Tensor", "torch.Tensor"]:
    """Re-factor B·A (rank ≤ r) as B = U√S, A = √S·Vᵀ: balanced factors, ordered by energy."""
    import torch

    qb, rb = torch.linalg.qr(b)
    qa, ra = torch.linalg.qr(a.T)
    u, s, vh = torch.linalg.svd(rb @ ra.T)
    root = s.sqrt()
    new_b = (qb @ u) * root
    new_a = root[:, None] * (vh @ qa.T)
    if new_b.shape[1] < r:  # fewer directions than the rank (tiny modules): pad with zeros to keep shape r
        new_b = torch.cat([new_b, new_b.new_zeros(new_b.shape[0], r - new_b.shape[1])], 1)
        new_a = torch.cat([new_a, new_a.new_zeros(r - new_a.shape[0], new_a.shape[1])], 0)
    return new_b[:, :r].contiguous(), new_a[:r].contiguous()


def carry_module(ctx: "TransferContext", pair: "ModulePair", plan: ModulePlan) -> tuple[ModuleRecord, LoraUpdate]:
    """Carry and score one module whatever its similarity (the threshold is applied later, see `paw.transfer.carried`).
    Returns its record and factors (A [r×in], B [out×r])."""
    import torch

    a_s, b_s = ctx.adapter[pair.source.path]
    fs, ft = ctx.factors("source", pair.source.path), ctx.factors("target", pair.target.path)
    record: ModuleRecord = {
        "target_module": pair.target.path, "kind": pair.target.kind, "target_layer": pair.target.layer,
        "source_module": pair.source.path, "source_layer": pair.source.layer,
    }
    similarity, chance = None, None
    if not plan.no_common_space:
        scores = []
        if "left" in plan.compare_sides:
            scores.append(subspace_similarity((plan.compare_left or plan.left)(fs.U), ft.U))
        if "right" in plan.compare_sides:
            scores.append(subspace_similarity((plan.compare_right or plan.right)(fs.V), ft.V))
        similarity = sum(s for s, _ in scores) / len(scores)
        chance = sum(c for _, c in scores) / len(scores)
    record.update(similarity=_round(similarity), chance=_round(chance))
    b = plan.left(b_s)
    a = plan.right(a_s.T).T
    carried = frobenius(b, a)
    energy = frobenius(ft.U.T @ b, a @ ft.V) ** 2 / carried**2 if carried > 0 else 0.0
    if plan.project:
        b, a = ft.U @ (ft.U.T @ b), (a @ ft.V) @ ft.V.T
    b, a = refactor(b, a, ctx.r)
    source_norm, norm = frobenius(b_s, a_s), frobenius(b, a)
    target_weight = float(ctx.weight("target", pair.target.path).norm())
    source_weight = float(ctx.weight("source", pair.source.path).norm())
    if plan.rescale != "none" and norm > 0:
        goal = source_norm if plan.rescale == "source" else source_norm / source_weight * target_weight
        factor = (goal / norm) ** 0.5
        b, a, norm = b * factor, a * factor, goal
    scale = ctx.alpha / ctx.r
    record.update(
        carried=True, reason=plan.note or None, energy_kept=_round(energy),
        norm_ratio=_round(norm / source_norm if source_norm > 0 else None),
        update_size=_round(scale * norm / target_weight if target_weight > 0 else None),
        source_update_size=_round(scale * source_norm / source_weight if source_weight > 0 else None),
    )
    return record, LoraUpdate(a.to(torch.float32), b.to(torch.float32))


def _round(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.4g}")
