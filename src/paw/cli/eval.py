"""`paw eval`: score one or more models (each optionally with a LoRA adapter) on a benchmark task.

    paw eval --model DIR [--adapter DIR] --dataset NAME [--data-path PATH] [--split S] [--sample-ratio R]
             [--max-samples N] [--batch-size N] [--prompt-style cloze|letter] [--dtype float32|bfloat16|float16]
             --out DIR

`--model` may be repeated, each as `DIR` or `DIR:ADAPTER_DIR`; every base is loaded once. With one model the
results go to --out itself; with several, to --out/<model> or --out/<model>+<adapter>, one directory each.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from paw.errors import PawError


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


def plan_runs(specs: list[str], adapter: str | None, out: str) -> list[tuple[Path, Path | None, Path]]:
    parsed = [parse_model_spec(spec) for spec in specs]
    if adapter is not None:
        if len(parsed) != 1 or parsed[0][1] is not None:
            raise PawError("--adapter goes with exactly one --model DIR — for several, write --model DIR:ADAPTER")
        parsed = [(parsed[0][0], Path(adapter))]
    if len(parsed) == 1:
        return [(parsed[0][0], parsed[0][1], Path(out))]
    runs, names = [], set()
    for model, adapter_dir in parsed:
        name = model.resolve().name + (f"+{adapter_dir.resolve().name}" if adapter_dir is not None else "")
        if name in names:
            raise PawError(f"--model {model}{':' + str(adapter_dir) if adapter_dir else ''} is given twice")
        names.add(name)
        runs.append((model, adapter_dir, Path(out) / name))
    return runs


# Flags passed to the library under their own names: its errors (`batch_size = 0 — expected …`) then name the flag.
LIBRARY_ARGS = ("split", "prompt_style", "sample_ratio", "max_samples", "batch_size", "dtype", "seed", "devices")


def _eval(args: argparse.Namespace) -> int:
    from paw.config.origins import given_flags
    from paw.evaluation.engine import evaluate_many

    runs = plan_runs(args.model, args.adapter, args.out)
    with given_flags(vars(args), {dest: dest for dest in LIBRARY_ARGS}).named_in_errors():
        results = evaluate_many(
            runs, args.dataset, data_path=args.data_path, split=args.split, prompt_style=args.prompt_style,
            sample_ratio=args.sample_ratio, max_samples=args.max_samples, batch_size=args.batch_size,
            dtype=args.dtype, seed=args.seed, devices=args.devices, trust_remote_code=args.trust_remote_code,
        )
    for (_, _, out_dir), metrics in zip(runs, results, strict=True):
        adapter = f" + {metrics['adapter']}" if metrics["adapter"] else ""
        print(
            f"{metrics['model']}{adapter} on {metrics['task']} ({metrics['split']}, {metrics['prompt_style']}, "
            f"n={metrics['n']}): acc {metrics['acc']:.4f} ± {metrics['acc_stderr']:.4f}, "
            f"acc_norm {metrics['acc_norm']:.4f} ± {metrics['acc_norm_stderr']:.4f}, "
            f"{metrics['items_per_second']:.1f} items/s → {out_dir}"
        )
    return 0
