"""`activation`: per module, maps between the source's and the target's input and output spaces fitted by ridge
least squares on paired activations of both bases over probe text (the bases' own activations, no task labels):

    Xs ≈ Xt·Nᵀ (inputs),  Yt ≈ Ys·Lᵀ (outputs),  ΔWt = L·ΔWs·N.

On unrelated toy bases such fits move accuracy only at weak ridge and with updates several times the size of a
target-trained LoRA's — hence `ridge`, `probe_size` and `norm_rescale` are options and the diagnostics report
each module's update size. Fit quality (R² of each map on the probe) is reported per module.

The fits are exact only where the probe's activations span each space the adapter touches: a 2048-wide MLP
intermediate needs a few thousand paired positions of varied text (`max_positions`, `probe_size`), and at layer 0,
where activations depend on the token alone, as many distinct tokens. q/k outputs are fitted after the per-head norm
the attention applies (see `paw.transfer.activations.per_head_norm`).
"""

from __future__ import annotations

from dataclasses import dataclass

from paw.fields import one_of, param, positive
from paw.resources import check_disk_for, check_memory_for
from paw.transfer.activations import paired_activations
from paw.transfer.layout import parse_path
from paw.transfer.methods.options import ProbeOptions
from paw.transfer.registry import ModulePlan, TransferMethod, register
from paw.transfer.ridge import RidgeFit

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


def shared_input_path(ctx, side: str, site) -> str:
    """The module whose input stands for every module of the site's input group in its layer (q/k/v read one
    input, gate/up another), so that input is captured and fitted once."""
    group = INPUT_GROUPS.get(site.kind)
    if group is None:
        return site.path
    layout = ctx.source_layout if side == "source" else ctx.target_layout
    kinds = sorted(kind for kind, g in INPUT_GROUPS.items() if g == group)
    return next(layout.sites[(site.layer, kind)].path for kind in kinds if (site.layer, kind) in layout.sites)


def fit_keys(ctx, pair) -> tuple[tuple, tuple]:
    """The activations one module's fits read: ((target input, source input), (source output, target output)),
    each a ("inputs"|"outputs", side, path)."""
    inputs = (("inputs", "target", shared_input_path(ctx, "target", pair.target)),
              ("inputs", "source", shared_input_path(ctx, "source", pair.source)))
    readers = intermediate_reader(ctx, "source", pair.source), intermediate_reader(ctx, "target", pair.target)
    if None not in readers:
        # gate/up outputs span only the residual's rank; down_proj's input (act(gate)·up) has the same
        # coordinates and full rank, so the intermediate map is fitted there.
        return inputs, (("inputs", "source", readers[0]), ("inputs", "target", readers[1]))
    return inputs, (("outputs", "source", pair.source.path), ("outputs", "target", pair.target.path))


@register
class Activation(TransferMethod):
    name = "activation"
    Options = ActivationOptions
    summary = "ridge maps fitted on paired activations of both bases over probe text"

    def prepare(self, ctx, pairs):
        o = self.options
        wanted, last_use = set(), {}
        for index, pair in enumerate(pairs):
            for key in sum(fit_keys(ctx, pair), ()):
                wanted.add(key)
                last_use[key] = index
        paths = {side: sorted({path for _, s, path in wanted if s == side}) for side in ("source", "target")}
        memory, disk = probe_bytes(ctx, wanted, o.max_positions)
        knobs = f"transfer.activation.max_positions (now {o.max_positions}) or probe_size (now {o.probe_size})"
        what = f"the activation probe ({o.max_positions} positions × {len(wanted)} activations)"
        check_memory_for(what, memory, f"{knobs}, or load the bases in bfloat16 (models.dtype)")
        check_disk_for(what, disk, knobs)
        # The fits need the modules' activations only: each pass stops after the deepest adapted layer.
        acts = paired_activations(ctx, o.probe_size, o.max_length, o.max_positions, paths["source"],
                                  paths["target"], hidden=False, wanted=wanted)
        # This run's fitted state, on the instance (one per run): the activations, when each can go, the fits.
        self.acts = acts
        ctx.on_close(acts.inputs.cleanup, acts.outputs.cleanup)
        self.release = _release_schedule(last_use)
        self.planned = 0
        self.fits = {}  # name -> (fit, the activation keys it reads)
        return {"paired_positions": acts.positions}

    def plan(self, ctx, pair):
        acts = self.acts
        self._release_finished(acts)
        (in_tgt, in_src), (out_src, out_tgt) = fit_keys(ctx, pair)
        group = INPUT_GROUPS.get(pair.target.kind, pair.target.kind)
        fits = self.fits
        # Modules that read the same activations (q/k/v; gate/up) share one fit: the maps are identical.
        in_key = ("in", pair.target.layer, pair.source.layer, group)
        if in_key not in fits:  # Xt·Nᵀ ≈ Xs
            fits[in_key] = (RidgeFit(_read(acts, in_tgt), _read(acts, in_src), self.options.ridge), {in_tgt, in_src})
        out_key = ("out", out_src, out_tgt)
        if out_key not in fits:  # Ys·Lᵀ ≈ Yt
            fits[out_key] = (RidgeFit(_read(acts, out_src), _read(acts, out_tgt), self.options.ridge),
                             {out_src, out_tgt})
        inputs, outputs = fits[in_key][0], fits[out_key][0]
        note = f"fit R² in {inputs.r_squared():.3f}, out {outputs.r_squared():.3f}"
        return ModulePlan(left=outputs.mt_times, right=inputs.m_times, rescale=self.options.norm_rescale,
                          note=note)

    def _release_finished(self, acts) -> None:
        """Modules are planned in order and each plan is carried before the next is made, so by plan number k
        the activations last read by plan k-1, and the fits built on them, can go: peak memory then holds one
        layer's fits instead of every layer's."""
        done = self.release.get(self.planned - 1, [])
        for key in done:
            getattr(acts, key[0]).pop(key[1:], None)
        if done:
            for name in [name for name, (_, reads) in self.fits.items() if reads & set(done)]:
                del self.fits[name]
        self.planned += 1


def probe_bytes(ctx, wanted: set, positions: int) -> tuple[int, int]:
    """Upper estimates of the probe's (memory, disk). Disk: every wanted activation as float32 rows. Memory: the
    larger base, whole, for its forward passes; then, in the carry, the largest layer's activations read back plus
    its fits' float64 Gram factors and working copies (about twice those activations)."""
    per_layer: dict[tuple[str, int], int] = {}
    for kind, side, path in wanted:
        module = ctx.base(side).structure.get_submodule(path)
        width = module.in_features if kind == "inputs" else module.out_features
        layer = parse_path(path)[0]
        per_layer[(side, layer)] = per_layer.get((side, layer), 0) + width
    largest = max(per_layer.values(), default=0)
    base = max(base_bytes(ctx.base(side)) for side in ("source", "target"))
    return max(base, 3 * 4 * positions * largest), 4 * positions * sum(per_layer.values())


def base_bytes(base) -> int:
    """A base's weights in memory at its dtype (float32 when 'auto': the upper bound)."""
    per = {"bfloat16": 2, "float16": 2}.get(base.dtype, 4)
    return per * sum(p.numel() for p in base.structure.parameters())


def _release_schedule(last_use: dict) -> dict[int, list]:
    schedule: dict[int, list] = {}
    for key, index in last_use.items():
        schedule.setdefault(index, []).append(key)
    return schedule


def _read(acts, key):
    kind, side, path = key
    return getattr(acts, kind)[(side, path)]
