"""`paw transfer`: carry a LoRA adapter from a source base to a target base.

    paw transfer --source-model DIR --source-adapter DIR --target-model DIR --out DIR
                 [--method NAME] [--threshold X] [--rank K] [--probe-file FILE] [--no-control] [--carried DIR]
    paw transfer --from-carried DIR --out DIR [--threshold X] [--no-control]

Writes DIR/adapter/ (a PEFT adapter for the target), DIR/control/ (norm-matched random adapter),
DIR/diagnostics.json and DIR/diagnostics.md. `--carried` also saves every module's carried update (before the
threshold); `--from-carried` then tries another threshold in seconds, without loading either base.
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
    parser.add_argument("--source-model", help="base model directory the adapter was trained on")
    parser.add_argument("--source-adapter", help="PEFT LoRA adapter directory of the source")
    parser.add_argument("--target-model", help="base model directory to transfer to")
    parser.add_argument("--out", required=True, help="output directory (adapter/, control/, diagnostics.*)")
    # method, rank and seed default to None so that --from-carried can tell whether they were given.
    parser.add_argument("--method", help=f"transfer method (default {DEFAULTS.method})")
    parser.add_argument("--threshold", type=float, default=DEFAULTS.threshold,
                        help="skip modules whose similarity (0..1) is below this")
    parser.add_argument("--rank", type=int, help=f"k of the truncated SVDs of the bases (default {DEFAULTS.rank})")
    parser.add_argument("--probe-file", help="text file (one text per line) for methods that read activations")
    parser.add_argument("--seed", type=int, help="seed of the randomized SVD and the control adapter (default 0)")
    parser.add_argument("--no-control", action="store_true", help="do not write the control adapter")
    parser.add_argument("--carried", metavar="DIR", help="also save every module's carried update here")
    parser.add_argument("--from-carried", metavar="DIR",
                        help="apply --threshold to updates saved by --carried (no model is loaded)")
    parser.set_defaults(func=_transfer)


MODEL_ARGS = ("source_model", "source_adapter", "target_model")
CARRY_ONLY = ("method", "rank", "probe_file", "seed", "carried")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_mode(args: argparse.Namespace) -> None:
    """Either a whole transfer (the three model arguments) or a selection from a saved carry — not both."""
    from paw.errors import PawError

    if args.from_carried:
        extra = [_flag(n) for n in MODEL_ARGS + CARRY_ONLY if getattr(args, n) is not None]
        if extra:
            raise PawError(f"--from-carried: {', '.join(extra)} cannot be combined with it — the carry already "
                           "fixed the models, method, rank and seed; only --threshold and --no-control apply")
        return
    missing = [_flag(n) for n in MODEL_ARGS if not getattr(args, n)]
    if missing:
        raise PawError(f"paw transfer: {', '.join(missing)} required — expected the source model, its adapter and "
                       "the target model (or --from-carried DIR)")


def _transfer(args: argparse.Namespace) -> int:
    from paw.transfer import run_transfer, transfer_from_carried
    from paw.transfer.registry import get_method

    _check_mode(args)
    if args.from_carried:
        result = transfer_from_carried(args.from_carried, args.out, threshold=args.threshold,
                                       control=not args.no_control)
        return _print_result(args.out, result)
    method_name = DEFAULTS.method if args.method is None else args.method
    rank = DEFAULTS.rank if args.rank is None else args.rank
    seed = 0 if args.seed is None else args.seed
    options = {}
    if args.probe_file:
        method = get_method(method_name)  # unknown method: the error lists the known ones
        if not hasattr(method.options, "probe_file"):
            from paw.errors import PawError

            raise PawError(f"--probe-file: transfer method {method_name} reads no probe text")
        options = {method_name: {"probe_file": args.probe_file}}
    result = run_transfer(
        args.source_model, args.source_adapter, args.target_model, args.out, method=method_name,
        threshold=args.threshold, rank=rank, control=not args.no_control, options=options, seed=seed,
        probe_loader=None, carried_dir=args.carried,
    )
    return _print_result(args.out, result)


def _print_result(out: str, result: dict) -> int:
    totals = result["totals"]
    print(
        f"wrote {out}: {totals['modules_kept']}/{totals['modules_considered']} modules kept, mean similarity "
        f"{totals['mean_similarity']} (chance {totals['mean_chance']}), {totals['seconds']} s"
    )
    return 0
