"""`paw eval`: score one or more models (each optionally with a LoRA adapter) on a benchmark task.

    paw eval --model DIR [--adapter DIR] --dataset NAME [--data-path PATH] [--split S] [--sample-ratio R]
             [--max-samples N] [--batch-size N] [--prompt-style cloze|letter] [--dtype float32|bfloat16|float16]
             --out DIR

`--model` may be repeated, each as `DIR` or `DIR:ADAPTER_DIR`; every base is loaded once. With one model the
results go to --out itself; with several, to --out/<model> or --out/<model>+<adapter>, one directory each,
where <adapter> is the adapter's path relative to the adapters' common root (`/` written `__`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from paw.config.origins import given_flags
from paw.errors import PawError
from paw.evaluation.api import EvalSpec, run_evaluations


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="score models on a benchmark task (lm-eval-identical, faster)")
    parser.add_argument("--model", action="append", required=True, metavar="DIR[:ADAPTER]",
                        help="model directory, optionally :adapter directory; repeat for several models")
    parser.add_argument("--adapter", help="LoRA adapter directory for a single --model")
    parser.add_argument("--dataset", required=True, help="task name, e.g. arc-challenge, piqa, hellaswag")
    parser.add_argument("--data-path", help="local <split>.jsonl directory or one file (default: the hub id)")
    parser.add_argument("--split", help="split to score (default: the one lm-eval uses)")
    parser.add_argument("--sample-ratio", type=float, default=1.0, help="seeded share of the items, in (0, 1]")
    parser.add_argument("--max-samples", type=int, help="cap on the number of items")
    parser.add_argument("--batch-size", type=int, default=8, help="batch size; tokens per batch = this × 512")
    parser.add_argument("--prompt-style", default="cloze", choices=("cloze", "letter"))
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"))
    parser.add_argument("--seed", type=int, default=0, help="seed of the item subset")
    parser.add_argument("--devices", type=int, default=1, help="processes (GPUs) to shard items across")
    parser.add_argument("--trust-remote-code", action="store_true", help="run the model repo's own code")
    parser.add_argument("--out", required=True, help="output directory")
    parser.set_defaults(func=_eval)


def parse_model_spec(spec: str) -> tuple[Path, Path | None]:
    """`DIR` or `DIR:ADAPTER` (a path that exists as written is never split)."""
    if ":" in spec and not Path(spec).exists():
        model, adapter = spec.rsplit(":", 1)
        if not model or not adapter:
            raise PawError(f"--model {spec!r} — expected DIR or DIR:ADAPTER_DIR")
        return Path(model), Path(adapter)
    return Path(spec), None


def adapter_labels(adapters: list[Path]) -> dict[Path, str]:
    """Each adapter's name in runs and output: its path relative to the adapters' common root, so that
    `runs/cross_lora/adapter` and `runs/aligned/adapter` stay apart (every pipeline adapter dir is `adapter`)."""
    distinct = sorted({a.resolve() for a in adapters})
    if len(distinct) <= 1:
        return {a: a.name for a in distinct}
    root = Path(os.path.commonpath(distinct))
    return {a: a.name if a == root else a.relative_to(root).as_posix() for a in distinct}


def plan_runs(specs: list[str], adapter: str | None, out: str) -> list[tuple[Path, Path | None, Path, str]]:
    """(model, adapter or None, output dir, label) per run; the label names it in printed lines."""
    parsed = [parse_model_spec(spec) for spec in specs]
    if adapter is not None:
        if len(parsed) != 1 or parsed[0][1] is not None:
            raise PawError("--adapter goes with exactly one --model DIR — for several, write --model DIR:ADAPTER")
        parsed = [(parsed[0][0], Path(adapter))]
    labels = adapter_labels([a for _, a in parsed if a is not None])
    runs, names = [], set()
    for model, adapter_dir in parsed:
        label = model.resolve().name + (f" + {labels[adapter_dir.resolve()]}" if adapter_dir is not None else "")
        if label in names:
            raise PawError(f"--model {model}{':' + str(adapter_dir) if adapter_dir else ''} is given twice")
        names.add(label)
        # One directory per run, named like the label: `toy-grown+cross_lora__adapter`.
        name = label.replace(" + ", "+").replace("/", "__")
        runs.append((model, adapter_dir, Path(out) if len(parsed) == 1 else Path(out) / name, label))
    return runs


# Flags passed to the library under their own names: its errors (`batch_size = 0 — expected …`) then name the flag.
LIBRARY_ARGS = ("split", "prompt_style", "sample_ratio", "max_samples", "batch_size", "dtype", "seed", "devices")


def _eval(args: argparse.Namespace) -> int:
    runs = plan_runs(args.model, args.adapter, args.out)
    with given_flags(vars(args), {dest: dest for dest in LIBRARY_ARGS}).named_in_errors():
        spec = EvalSpec(task=args.dataset, data_path=args.data_path, trust_remote_code=args.trust_remote_code,
                        **{dest: getattr(args, dest) for dest in LIBRARY_ARGS})
        results = run_evaluations([run[:3] for run in runs], spec)
    for (_, _, out_dir, label), metrics in zip(runs, results, strict=True):
        print(
            f"{label} on {metrics['task']} ({metrics['split']}, {metrics['prompt_style']}, "
            f"n={metrics['n']}): acc {metrics['acc']:.4f} ± {metrics['acc_stderr']:.4f}, "
            f"acc_norm {metrics['acc_norm']:.4f} ± {metrics['acc_norm_stderr']:.4f}, "
            f"{metrics['items_per_second']:.1f} items/s → {out_dir}"
        )
    return 0
