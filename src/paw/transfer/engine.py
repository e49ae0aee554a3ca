"""Run one transfer in two parts. Carrying: validate inputs, pair modules, let the method carry and score every
update (threshold-independent; may be saved, see `paw.transfer.carried`). Finishing: keep the modules whose
similarity reaches the threshold and write the target adapter, its norm-matched random control and the
diagnostics — all in one atomic directory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from paw.data import get_task
from paw.errors import PawError
from paw.models import check_adapter_fits, read_adapter, resolve_model_dir
from paw.models.adapters import LORA_TENSOR_KEY, WEIGHTS_NAME
from paw.resources import peak_gpu_mb, peak_ram_mb
from paw.transfer.activations import paired_activations
from paw.transfer.bases import Base
from paw.transfer.carried import Carried, LoraUpdate, read_carried, select, write_carried
from paw.transfer.carry import carry_module
from paw.transfer.context import ModulePair, TransferContext
from paw.transfer.decompose import check_rank, read_decomposition
from paw.transfer.layer_match import cka_layer_map
from paw.transfer.layout import Layout, depth_layer_map, model_layout, parse_path
from paw.transfer.probe import read_probe_file
from paw.transfer.progress import phase, step
from paw.transfer.registry import SkipModule, TransferMethod
from paw.transfer.records import CarryCost, ModuleRecord
from paw.transfer.spec import TransferSpec

if TYPE_CHECKING:
    import torch

    from paw.config import Params


def carry_from_params(params: "Params", source_model_dir, source_adapter_dir, target_model_dir, carried_dir,
                      source_svd_dir=None, target_svd_dir=None) -> CarryCost:
    """The carry stage: every module carried into the target, saved in carried_dir. Returns its cost (seconds,
    peak memory) and counts."""
    spec = TransferSpec.from_params(params)
    chosen = spec.chosen()
    if chosen.trains_target:  # it trains a target LoRA itself (distill): nothing is carried module by module
        carried = chosen.train_target(params, source_model_dir, source_adapter_dir, target_model_dir, carried_dir,
                                      source_svd_dir, target_svd_dir)
    else:
        carried = carry_transfer(source_model_dir, source_adapter_dir, target_model_dir, spec,
                                 source_svd_dir=source_svd_dir, target_svd_dir=target_svd_dir,
                                 probe_loader=lambda: task_probe_texts(params.dataset, params.data_path))
    write_carried(carried_dir, carried)
    return {"method": spec.method, "modules_considered": len(carried.records), "modules_carried": len(carried.weights),
            **carried.cost}


def task_probe_texts(dataset: str, data_path: str | None) -> list[str]:
    """The question texts (no answers) of the task's train split: the bases' activations on them, no labels."""
    task = get_task(dataset)
    rows = task.load_rows("train", data_path)
    return [task.to_item(row, i, "cloze").contexts[0] for i, row in enumerate(rows)]


def file_probe_texts(path: str) -> list[str]:
    return read_probe_file(path)


def run_transfer(source_model_dir, source_adapter_dir, target_model_dir, out_dir, spec: TransferSpec | None = None, *,
                 source_svd_dir=None, target_svd_dir=None, probe_loader: Callable[[], list[str]] | None = None,
                 carried_dir=None, **fields: Any) -> dict:
    """Carry every module, then keep those whose similarity reaches the spec's threshold and write out_dir. The
    spec, or its fields as keywords (`method=`, `svd_rank=`, `threshold=`, `options=`, ...). With `carried_dir`,
    the threshold-independent results are also saved there for `transfer_from_carried`."""
    if spec is None:
        spec = TransferSpec(**fields)
    elif fields:
        raise TypeError(f"run_transfer: a spec and its fields ({', '.join(fields)}) — give one or the other")
    carried = carry_transfer(source_model_dir, source_adapter_dir, target_model_dir, spec,
                             source_svd_dir=source_svd_dir, target_svd_dir=target_svd_dir, probe_loader=probe_loader)
    if carried_dir is not None:
        write_carried(carried_dir, carried)
    return finish_transfer(carried, out_dir, spec.threshold, spec.control)


def transfer_from_carried(carried_dir, out_dir, *, threshold: float = 1.0e-4, control: bool = True,
                          carry_cost: Mapping[str, Any] | None = None) -> dict:
    """Only the threshold-dependent part of a transfer, from a saved carry: no base model is loaded."""
    carried = read_carried(carried_dir)
    carried.cost = dict(carry_cost or {})
    return finish_transfer(carried, out_dir, threshold, control)


def transfer_from_carried_params(params: "Params", carried_dir, out_dir, carry_cost=None) -> dict:
    """The transfer stage: `transfer.threshold` and `transfer.control` applied to the carry stage's output."""
    return transfer_from_carried(carried_dir, out_dir, threshold=params.transfer.threshold,
                                 control=params.transfer.control, carry_cost=carry_cost)


def finish_transfer(carried, out_dir, threshold: float, control: bool) -> dict:
    from paw.transfer.output import write_outputs

    start = time.perf_counter()
    weights, records = select(carried, threshold)
    with phase("writing the adapter, its control and the diagnostics"):
        return write_outputs(Path(out_dir), carried, weights, records, threshold, control, start)


def carry_transfer(source_model_dir, source_adapter_dir, target_model_dir, spec: TransferSpec, *,
                   source_svd_dir=None, target_svd_dir=None,
                   probe_loader: Callable[[], list[str]] | None = None) -> Carried:
    """The costly, threshold-independent part: every paired module's update carried into the target and scored."""
    start = time.perf_counter()
    chosen = spec.chosen()
    ctx = load_context(source_model_dir, source_adapter_dir, target_model_dir, chosen, svd_rank=spec.svd_rank,
                       dtype=spec.dtype, trust_remote_code=spec.trust_remote_code, seed=spec.seed,
                       source_svd_dir=source_svd_dir, target_svd_dir=target_svd_dir, probe_loader=probe_loader)
    try:
        chosen.check_pair(ctx)
        with phase(f"{chosen.layer_map_kind()} layer map"):
            layer_map, layer_diag = build_layer_map(ctx, chosen)
        pairs, skipped = pair_modules(ctx, layer_map)
        with phase(f"{chosen.name}: preparing (probe passes and shared fits, where the method has them)"):
            method_diag = chosen.prepare(ctx, pairs)
        weights, records = carry_modules(ctx, chosen, pairs, skipped)
    finally:
        ctx.close()
    return assemble_carried(ctx, chosen, pairs, weights, records, layer_diag, method_diag, start)


def load_context(source_model_dir, source_adapter_dir, target_model_dir, chosen: TransferMethod, *, svd_rank: int,
                 dtype: str, trust_remote_code: bool, seed: int, source_svd_dir, target_svd_dir,
                 probe_loader: Callable[[], list[str]] | None) -> TransferContext:
    """Both bases' structures and the source adapter checked against each other, with the SVD tables and the
    probe."""
    source_dir, target_dir = resolve_model_dir(source_model_dir), resolve_model_dir(target_model_dir)
    info = read_adapter(source_adapter_dir)
    check_recorded_base(info, source_dir)
    # Structures only: a weight is read when a method asks for it, a whole base only for forward passes.
    source, target = Base(source_dir, dtype, trust_remote_code), Base(target_dir, dtype, trust_remote_code)
    check_adapter_fits(source.structure, info)
    check_rank(svd_rank, source.structure, source_dir)
    check_rank(svd_rank, target.structure, target_dir)
    source_layout, target_layout = model_layout(source.structure), model_layout(target.structure)
    adapter = read_adapter_tensors(info.path)
    check_kinds_overlap(info.path, adapter, target_layout, target_dir)
    probe_file = getattr(chosen.options, "probe_file", None)
    return TransferContext(
        source_dir=source_dir, target_dir=target_dir, source=source, target=target,
        source_layout=source_layout, target_layout=target_layout, adapter=adapter, r=info.r, alpha=info.alpha,
        svd_rank=svd_rank, seed=seed,
        svd_source=read_svd(source_svd_dir, source_dir, svd_rank),
        svd_target=read_svd(target_svd_dir, target_dir, svd_rank),
        svd_on_demand=tuple(side for side, d in (("source", source_svd_dir), ("target", target_svd_dir)) if d is None),
        probe_loader=(lambda: file_probe_texts(probe_file)) if probe_file else probe_loader,
        trust_remote_code=trust_remote_code,
    )


def carry_modules(ctx: TransferContext, chosen: TransferMethod, pairs: list[ModulePair],
                  skipped: list[dict]) -> tuple[dict, list[dict]]:
    """Each pair's update carried by the method's plan: its factors by target path, and a record per module
    (skipped ones included), sorted by target layer and kind."""
    weights, records = {}, list(skipped)
    with phase(f"carrying {len(pairs)} modules"):
        for i, pair in enumerate(pairs, 1):
            step(i, len(pairs), f"modules carried (layer {pair.target.layer} {pair.target.kind})")
            try:
                plan = chosen.plan(ctx, pair)
            except SkipModule as why:
                records.append(skip_record(pair.target, pair.source.layer, str(why)))
                continue
            record, factors = carry_module(ctx, pair, plan)
            records.append(record)
            weights[pair.target.path] = factors
    records.sort(key=lambda r: (r["target_layer"], r["kind"]))
    if not weights:
        reasons = sorted({r["reason"] for r in records})
        raise PawError(f"no module could be carried by {chosen.name} ({len(records)} considered: "
                       f"{'; '.join(reasons)[:300]}) — pick another method")
    return weights, records


def assemble_carried(ctx: TransferContext, chosen: TransferMethod, pairs: list[ModulePair], weights: dict,
                     records: list[dict], layer_diag: dict, method_diag: Any, start: float) -> Carried:
    """The carried modules with the run's summary and its cost (seconds since `start`, peak memory)."""
    carried_paths = {pair.source.path for pair in pairs}
    summary = {
        "source_modules_not_carried": sorted(set(ctx.adapter) - carried_paths),
        "method": chosen.name, "method_summary": chosen.summary, "options": _plain(chosen.options),
        "source_model": ctx.source_dir.name, "target_model": ctx.target_dir.name, "rank": ctx.svd_rank,
        "lora_r": ctx.r, "lora_alpha": ctx.alpha, "seed": ctx.seed, **layer_diag, "method_diagnostics": method_diag,
    }
    cost = {"seconds": round(time.perf_counter() - start, 2), "peak_ram_mb": peak_ram_mb(),
            "peak_gpu_mb": peak_gpu_mb()}
    return Carried(records=records, weights=weights, summary=summary, r=ctx.r, alpha=ctx.alpha,
                   target_model=ctx.target_dir.name, target_layers=ctx.target_layout.n_layers, cost=cost)


def _plain(options: Any) -> dict:
    import dataclasses

    return dataclasses.asdict(options) if dataclasses.is_dataclass(options) else {}


def check_recorded_base(info, source_dir: Path) -> None:
    """The adapter records the base it was trained on by name; a different name means a different base."""
    if not info.base_model:
        return
    recorded = Path(str(info.base_model).rstrip("/")).name
    if recorded.lower() != source_dir.name.lower():
        raise PawError(
            f"{info.path}: adapter was trained on base {recorded!r}, but the source model is {source_dir.name!r} — "
            "expected the source base the adapter was trained on"
        )


def read_adapter_tensors(adapter_dir: Path) -> dict[str, LoraUpdate]:
    import torch
    from safetensors.torch import load_file

    parts: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in load_file(str(adapter_dir / WEIGHTS_NAME)).items():
        match = LORA_TENSOR_KEY.match(key)
        if match:
            parts.setdefault(match["module"], {})[match["part"]] = tensor.to(torch.float32)
    return {module: LoraUpdate(p["A"], p["B"]) for module, p in parts.items()}


def check_kinds_overlap(adapter_dir: Path, adapter: dict, target: Layout, target_dir: Path) -> None:
    kinds = {parsed[1] for parsed in map(parse_path, adapter) if parsed}
    if not kinds & target.kinds():
        raise PawError(
            f"{adapter_dir}: the adapter has no module the target has — adapter modules "
            f"{sorted(kinds) or sorted(adapter)[:3]}, {target_dir.name} layers have {sorted(target.kinds())}"
        )


def read_svd(svd_dir, model_dir: Path, svd_rank: int) -> dict:
    """A cached decomposition, or an empty table filled on demand (only the modules actually transferred)."""
    return read_decomposition(Path(svd_dir), model_dir, svd_rank) if svd_dir is not None else {}


def build_layer_map(ctx: TransferContext, method: TransferMethod) -> tuple[dict[int, int], dict]:
    kind = method.layer_map_kind()
    n_s, n_t = ctx.source_layout.n_layers, ctx.target_layout.n_layers
    if kind == "depth":
        mapping = depth_layer_map(n_s, n_t)
        return mapping, {"layer_map": "depth", "layers": {str(j): i for j, i in mapping.items()}}
    o = method.options
    acts = paired_activations(ctx, o.probe_size, o.max_length, getattr(o, "max_positions", 4096), [], [])
    mapping, mean = cka_layer_map(acts)
    return mapping, {"layer_map": "cka", "mean_cka": round(mean, 4),
                     "layers": {str(j): mapping.get(j) for j in range(n_t)}}


def skip_record(site, source_layer: int | None, reason: str) -> ModuleRecord:
    return {"target_module": site.path, "kind": site.kind, "target_layer": site.layer, "source_module": None,
            "source_layer": source_layer, "kept": False, "reason": reason}


def pair_modules(ctx: TransferContext, layer_map: dict[int, int]) -> tuple[list[ModulePair], list[dict]]:
    """Every target module of a kind the adapter adapts gets a source module, or a skip record with the reason."""
    kinds = {parsed[1] for parsed in map(parse_path, ctx.adapter) if parsed}
    pairs, skipped = [], []
    for (layer, kind), site in sorted(ctx.target_layout.sites.items()):
        if kind not in kinds:
            continue
        source_layer = layer_map.get(layer)
        if source_layer is None:
            skipped.append(skip_record(site, None, "target layer left unmatched by the layer map"))
            continue
        source = ctx.source_layout.sites.get((source_layer, kind))
        if source is None or source.path not in ctx.adapter:
            skipped.append(skip_record(site, source_layer, f"source adapter has no {kind} at layer {source_layer}"))
            continue
        pairs.append(ModulePair(target=site, source=source))
    return pairs, skipped
