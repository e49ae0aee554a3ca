"""`activation`: per module, maps between the source's and the target's input and output spaces fitted by ridge
least squares on paired activations of both bases over probe text (the bases' own activations, no task labels):

    Xs ≈ Xt·Nᵀ (inputs),  Yt ≈ Ys·Lᵀ (outputs),  ΔWt = L·ΔWs·N.

On unrelated toy bases such fits move accuracy only at weak ridge and with updates several times the size of a
target-trained LoRA's — hence `ridge`, `probe_size` and `norm_rescale` are options and the diagnostics report
each module's update size. Fit quality (R² of each map on the probe) is reported per module.

The fits are exact only where the probe's activations span each space the adapter touches: a 2048-wide MLP
intermediate needs a few thousand paired positions of varied text (`max_positions`, `probe_size`), and at layer 0,
where activations depend on the token alone, as many distinct tokens. q/k outputs are fitted after the per-head norm
the attention applies (see `spaces.per_head_norm`).
"""

from __future__ import annotations

from dataclasses import dataclass

from paw.config.fields import one_of, param, positive
from paw.transfer.methods.options import ProbeOptions
from paw.transfer.registry import ModulePlan, TransferMethod, register
from paw.transfer.spaces import paired_activations

RESCALES = ("none", "source", "relative")
# Kinds that read the same input activations.
INPUT_GROUPS = {"q_proj": "attention input", "k_proj": "attention input", "v_proj": "attention input",
                "gate_proj": "mlp input", "up_proj": "mlp input"}


@dataclass(frozen=True)
class ActivationOptions(ProbeOptions):
    max_positions: int = param(2048, check=positive, expect="a positive integer")  # paired token positions kept
    norm_rescale: str = param("none", check=one_of(*RESCALES), expect=f"one of {', '.join(RESCALES)}")


def intermediate_reader(ctx, side: str, site) -> str | None:
    """The down_proj that reads the MLP intermediate a gate/up module writes, when the layer has one."""
    if site.kind not in ("gate_proj", "up_proj"):
        return None
    layout = ctx.source_layout if side == "source" else ctx.target_layout
    reader = layout.sites.get((site.layer, "down_proj"))
    return reader.path if reader is not None else None


@register
class Activation(TransferMethod):
    name = "activation"
    Options = ActivationOptions
    summary = "ridge maps fitted on paired activations of both bases over probe text"

    def prepare(self, ctx, pairs):
        o = self.options
        source_paths = {p.source.path for p in pairs}
        target_paths = {p.target.path for p in pairs}
        for pair in pairs:
            for side, site, paths in (("source", pair.source, source_paths), ("target", pair.target, target_paths)):
                reader = intermediate_reader(ctx, side, site)
                if reader is not None:
                    paths.add(reader)
        # The fits need the modules' activations only: each pass stops after the deepest adapted layer.
        acts = paired_activations(ctx, o.probe_size, o.max_length, o.max_positions, sorted(source_paths),
                                  sorted(target_paths), hidden=False)
        ctx.state["activation.acts"] = acts
        return {"paired_positions": acts.positions}

    def plan(self, ctx, pair):
        from paw.transfer.spaces import RidgeFit

        acts = ctx.state["activation.acts"]
        src, tgt = ("source", pair.source.path), ("target", pair.target.path)
        out_src, out_tgt = ("outputs", src), ("outputs", tgt)
        readers = intermediate_reader(ctx, "source", pair.source), intermediate_reader(ctx, "target", pair.target)
        if None not in readers:
            # gate/up outputs span only the residual's rank; down_proj's input (act(gate)·up) has the same
            # coordinates and full rank, so the intermediate map is fitted there.
            out_src, out_tgt = ("inputs", ("source", readers[0])), ("inputs", ("target", readers[1]))
        group = INPUT_GROUPS.get(pair.target.kind, pair.target.kind)
        fits = ctx.state.setdefault("activation.fits", {})
        # Modules that read the same activations (q/k/v; gate/up) share one fit: the maps are identical.
        in_key = ("in", pair.target.layer, pair.source.layer, group)
        if in_key not in fits:
            fits[in_key] = RidgeFit(acts.inputs[tgt], acts.inputs[src], self.options.ridge)  # Xt·Nᵀ ≈ Xs
        out_key = ("out", out_src, out_tgt)
        if out_key not in fits:
            fits[out_key] = RidgeFit(getattr(acts, out_src[0])[out_src[1]], getattr(acts, out_tgt[0])[out_tgt[1]],
                                     self.options.ridge)  # Ys·Lᵀ ≈ Yt
        inputs, outputs = fits[in_key], fits[out_key]
        note = f"fit R² in {inputs.r_squared():.3f}, out {outputs.r_squared():.3f}"
        return ModulePlan(left=outputs.mt_times, right=inputs.m_times, rescale=self.options.norm_rescale,
                          note=note)
