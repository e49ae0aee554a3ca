"""`paw transfer`: carry a LoRA adapter from a source base to a target base.

    paw transfer --source-model DIR --source-adapter DIR --target-model DIR --out DIR
                 [--method NAME] [--threshold X] [--rank K] [--probe-file FILE] [--no-control]

Writes DIR/adapter/ (a PEFT adapter for the target), DIR/control/ (norm-matched random adapter),
DIR/diagnostics.json and DIR/diagnostics.md.
"""

from __future__ import annotations

import argparse

from paw.config import TransferParams

DEFAULTS = TransferParams()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transfer", help="transfer a LoRA adapter to another base model",
        description="Transfer a LoRA adapter from a source base to a target base; methods: copy, projection, "
        "cross_lora, aligned, activation.",
    )
    parser.add_argument("--source-model", required=True, help="base model directory the adapter was trained on")
    parser.add_argument("--source-adapter", required=True, help="PEFT LoRA adapter directory of the source")
    parser.add_argument("--target-model", required=True, help="base model directory to transfer to")
    parser.add_argument("--out", required=True, help="output directory (adapter/, control/, diagnostics.*)")
    parser.add_argument("--method", default=DEFAULTS.method, help=f"transfer method (default {DEFAULTS.method})")
    parser.add_argument("--threshold", type=float, default=DEFAULTS.threshold,
                        help="skip modules whose similarity (0..1) is below this")
    parser.add_argument("--rank", type=int, default=DEFAULTS.rank, help="k of the truncated SVDs of the bases")
    parser.add_argument("--probe-file", help="text file (one text per line) for methods that read activations")
    parser.add_argument("--seed", type=int, default=0, help="seed of the randomized SVD and the control adapter")
    parser.add_argument("--no-control", action="store_true", help="do not write the control adapter")
    parser.set_defaults(func=_transfer)


def _transfer(args: argparse.Namespace) -> int:
    from paw.transfer import run_transfer
    from paw.transfer.registry import get_method

    options = {}
    if args.probe_file:
        method = get_method(args.method)  # unknown method: the error lists the known ones
        if not hasattr(method.options, "probe_file"):
            from paw.errors import PawError

            raise PawError(f"--probe-file: transfer method {args.method} reads no probe text")
        options = {args.method: {"probe_file": args.probe_file}}
    result = run_transfer(
        args.source_model, args.source_adapter, args.target_model, args.out, method=args.method,
        threshold=args.threshold, rank=args.rank, control=not args.no_control, options=options, seed=args.seed,
        probe_loader=None,
    )
    totals = result["totals"]
    print(
        f"wrote {args.out}: {totals['modules_kept']}/{totals['modules_considered']} modules kept, mean similarity "
        f"{totals['mean_similarity']} (chance {totals['mean_chance']}), {totals['seconds']} s"
    )
    return 0
