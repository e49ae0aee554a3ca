"""`evaluate`: score a base model (optionally with a LoRA adapter) on a task and write metrics + predictions.

Outputs, written atomically into `out_dir` (a failed run leaves no directory behind): metrics.json and
predictions.jsonl, whose layout, writer and reader are in records.py.
Model and adapter are recorded by directory name, so metrics are identical across machines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paw.data import Item, get_task, sample_indices
from paw.evaluation.metrics import mean_stderr
from paw.evaluation.progress import ItemsDone, Progress
from paw.evaluation.records import EvalMetrics, Prediction, write_evaluation
from paw.evaluation.requests import build_requests
from paw.evaluation.scorer import Scorer
from paw.evaluation.spec import EvalSpec
from paw.models import attach_adapter, check_adapter_fits, load_model, load_tokenizer, read_adapter, resolve_model_dir
from paw.resources import peak_gpu_mb, peak_ram_mb
from paw.scoring import predict, resolve_max_length

if TYPE_CHECKING:
    from paw.config.schema import Params

TOKENS_PER_BATCH_SLOT = 512  # token budget per batch = batch_size × this
# On a CPU, at most this: the elementwise work between the matrix products then stays in the cores' caches
# (measured on Qwen2.5-Coder-0.5B, 100 ARC-Easy rows, one thread: 22 s of scoring at 512 tokens, 27 s at 4,096).
CPU_BATCH_TOKENS = 512


@dataclass(frozen=True)
class EvalSet:
    """The items of one evaluation: task, split, style and the seeded subset, independent of the model."""

    task_name: str
    split: str
    prompt_style: str
    items: list[Item]


def load_eval_set(task_name: str, **options: Any) -> EvalSet:
    """The items `EvalSpec(task=task_name, **options)` selects (only its data and sampling fields matter)."""
    return eval_set_for(EvalSpec(task=task_name, **options))


def eval_set_for(spec: EvalSpec) -> EvalSet:
    task = get_task(spec.task)
    split = spec.split or task.default_split
    rows = task.load_rows(split=split, data_path=spec.data_path)
    chosen = sample_indices(len(rows), spec.sample_ratio, spec.max_samples, spec.seed)
    items = [task.to_item(rows[i], i, style=spec.prompt_style) for i in chosen]
    return EvalSet(task.name, split, spec.prompt_style, items)


def prepare_model(model_dir: str | Path, adapter_dir: str | Path | None, dtype: str, trust_remote_code: bool):
    """Load the base (and merge the adapter into it in memory: one plain forward instead of base + LoRA)."""
    model = load_model(model_dir, dtype=dtype, trust_remote_code=trust_remote_code, cache=False)
    tokenizer = load_tokenizer(model_dir, trust_remote_code=trust_remote_code)
    if adapter_dir is not None:
        model = merge_adapter(model, adapter_dir)
    return model, tokenizer


def merge_adapter(model, adapter_dir: str | Path):
    """Attach (validated: an adapter that does not fit the base is an error) and merge; `model` is changed."""
    merged = attach_adapter(model, adapter_dir).merge_and_unload()
    merged.eval()
    return merged


def score_eval_set(model, tokenizer, eval_set: EvalSet, *, batch_size: int = 8, share_context: bool = True,
                   progress: bool = True) -> list[list[float]]:
    """Per-item, per-choice loglikelihoods on this process's model."""
    grouped = build_requests(tokenizer, eval_set.items, resolve_max_length(model.config, tokenizer))
    budget = batch_size * TOKENS_PER_BATCH_SLOT
    if next(model.parameters()).device.type == "cpu":
        budget = min(budget, CPU_BATCH_TOKENS)
    scorer = Scorer(model, share_context=share_context, token_budget=budget)
    bar = Progress(len(grouped), f"eval {eval_set.task_name}", enabled=progress, unit="items")
    try:
        flat = scorer.score(grouped, on_batch=ItemsDone([len(g) for g in grouped], bar.advance))
    finally:
        bar.close()
    out, start = [], 0
    for g in grouped:
        out.append(flat[start:start + len(g)])
        start += len(g)
    return out


def summarize(eval_set: EvalSet, lls: list[list[float]]) -> tuple[dict[str, Any], list[Prediction]]:
    predictions, hits, hits_norm = [], [], []
    for item, item_lls in zip(eval_set.items, lls, strict=True):
        pred, pred_norm = predict(item_lls, item.choice_texts)
        hits.append(float(pred == item.gold))
        hits_norm.append(float(pred_norm == item.gold))
        predictions.append({"id": item.id, "gold": item.gold, "ll": item_lls, "pred": pred, "pred_norm": pred_norm})
    acc, acc_stderr = mean_stderr(hits)
    acc_norm, acc_norm_stderr = mean_stderr(hits_norm)
    # One item has no sample spread: JSON has no NaN, so the stderr is null there.
    acc_stderr, acc_norm_stderr = (None if x != x else x for x in (acc_stderr, acc_norm_stderr))
    metrics = {
        "task": eval_set.task_name,
        "split": eval_set.split,
        "prompt_style": eval_set.prompt_style,
        "n": len(hits),
        "acc": acc,
        "acc_stderr": acc_stderr,
        "acc_norm": acc_norm,
        "acc_norm_stderr": acc_norm_stderr,
        # lm-eval lists acc_norm for this task (not for winogrande, boolq): papers quote it only where true.
        "acc_norm_in_lm_eval": get_task(eval_set.task_name).reports_acc_norm,
    }
    return metrics, predictions


def evaluate(model_dir: str | Path, adapter_dir: str | Path | None, task_name: str, out_dir: str | Path,
             **options: Any) -> dict[str, Any]:
    """Score `model_dir` (+ `adapter_dir`) on a task; write out_dir/metrics.json and predictions.jsonl; return
    the metrics. `options` are `EvalSpec`'s fields. Everything is checked (data, sampling, model, adapter)
    before anything is written."""
    return run_evaluations([(model_dir, adapter_dir, out_dir)], EvalSpec(task=task_name, **options))[0]


def run_evaluations(runs: list[tuple[str | Path, str | Path | None, str | Path]],
                    spec: EvalSpec) -> list[dict[str, Any]]:
    """Several (model_dir, adapter_dir or None, out_dir) runs on the same items, each base loaded once.

    All inputs are checked first (data, sampling, every model dir and adapter, each adapter against its base),
    so a bad one fails the command before any output directory is written."""
    runs = [(resolve_model_dir(m), a, o) for m, a, o in runs]
    for _, adapter_dir, _ in runs:
        if adapter_dir is not None:
            read_adapter(adapter_dir)
    eval_set = eval_set_for(spec)
    if spec.devices > 1:
        from paw.evaluation.distributed import score_distributed  # it imports this module: a cycle at module level

        results = []
        for model_dir, adapter_dir, out_dir in runs:
            start = time.perf_counter()
            lls = score_distributed(model_dir, adapter_dir, eval_set, devices=spec.devices,
                                    batch_size=spec.batch_size, dtype=spec.dtype,
                                    trust_remote_code=spec.trust_remote_code, share_context=spec.share_context)
            results.append(finish(eval_set, lls, out_dir, model_dir, adapter_dir, time.perf_counter() - start,
                                  spec.dtype))
        return results
    return _evaluate_loaded(runs, eval_set, spec)


def _evaluate_loaded(runs, eval_set: EvalSet, spec: EvalSpec) -> list[dict[str, Any]]:
    import copy

    bases, tokenizers = {}, {}
    for model_dir, adapter_dir, _ in runs:
        key = str(model_dir.resolve())
        if key not in bases:
            bases[key] = load_model(model_dir, dtype=spec.dtype, trust_remote_code=spec.trust_remote_code)
            tokenizers[key] = load_tokenizer(model_dir, trust_remote_code=spec.trust_remote_code)
        if adapter_dir is not None:
            check_adapter_fits(bases[key], read_adapter(adapter_dir))
    uses = {}
    for model_dir, _, _ in runs:
        uses[str(model_dir.resolve())] = uses.get(str(model_dir.resolve()), 0) + 1
    results = []
    for model_dir, adapter_dir, out_dir in runs:
        key = str(model_dir.resolve())
        start = time.perf_counter()
        model = bases[key]
        if adapter_dir is not None:
            uses[key] -= 1
            # Merging changes the weights: work on a copy while another run still needs this base.
            model = merge_adapter(copy.deepcopy(model) if uses[key] > 0 else model, adapter_dir)
        lls = score_eval_set(model, tokenizers[key], eval_set, batch_size=spec.batch_size,
                             share_context=spec.share_context, progress=spec.progress)
        results.append(finish(eval_set, lls, out_dir, model_dir, adapter_dir, time.perf_counter() - start,
                              spec.dtype))
        del model
    return results


def finish(eval_set: EvalSet, lls, out_dir, model_dir, adapter_dir, seconds: float, dtype: str) -> EvalMetrics:
    metrics, predictions = summarize(eval_set, lls)
    metrics.update({
        "model": Path(model_dir).resolve().name,
        "adapter": Path(adapter_dir).resolve().name if adapter_dir is not None else None,
        "dtype": dtype,
        "seconds": round(seconds, 3),
        "items_per_second": round(len(eval_set.items) / seconds, 3) if seconds > 0 else None,
        "peak_ram_mb": peak_ram_mb(),
        "peak_gpu_mb": peak_gpu_mb(),
    })
    write_evaluation(out_dir, metrics, predictions)
    return metrics


def evaluate_from_params(params: "Params", model_dir: str | Path, adapter_dir: str | Path | None,
                         out_dir: str | Path) -> dict[str, Any]:
    """One evaluation with every setting from params.yaml (the pipeline stages call this)."""
    return run_evaluations([(model_dir, adapter_dir, out_dir)], EvalSpec.from_params(params))[0]
