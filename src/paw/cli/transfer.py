"""`paw transfer`: carry a LoRA adapter from a source base to a target base.

    paw transfer --source-model DIR --source-adapter DIR --target-model DIR --out DIR
                 [--method NAME] [--threshold X] [--svd-rank K] [--dtype D] [--no-control] [--carried DIR]
                 [--probe-file FILE] [--probe-size N] [--max-positions N] [--ridge X]
    paw transfer --from-carried DIR --out DIR [--threshold X] [--no-control]

Writes DIR/adapter/ (a PEFT adapter for the target), DIR/control/ (norm-matched random adapter),
DIR/diagnostics.json and DIR/diagnostics.md. `--carried` also saves every module's carried update (before the
threshold); `--from-carried` then tries another threshold in seconds, without loading either base.

The probe flags set the method's options (`transfer.<method>.*` in params.yaml, which this command does not read);
a probe file is plain text, one text per line, or `.jsonl` with one {"text": …} object per line (see
`paw.transfer.probe`), so a multi-line prompt such as `Question: …\nAnswer:` fits.
"""

from __future__ import annotations

import argparse

from paw.config import TransferParams
from paw.config.origins import given_flags
from paw.errors import PawError
from paw.transfer.api import run_transfer, transfer_from_carried
from paw.transfer.probe import FORMATS, read_probe_file
from paw.transfer.registry import get_method
from paw.transfer.sanity import similarity_phrase, warning_line

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
    # method, svd rank and seed default to None so that --from-carried can tell whether they were given.
    parser.add_argument("--method", help=f"transfer method (default {DEFAULTS.method})")
    parser.add_argument("--threshold", type=float, default=DEFAULTS.threshold,
                        help="skip modules whose similarity (0..1) is below this")
    parser.add_argument("--svd-rank", type=int,
                        help=f"k of the truncated SVDs of the bases, not the LoRA rank (default {DEFAULTS.svd_rank})")
    parser.add_argument("--rank", dest="old_rank", type=int, help=argparse.SUPPRESS)  # --svd-rank's old name
    parser.add_argument("--dtype", choices=("float32", "bfloat16", "float16"),
                        help="dtype the bases are loaded in (default float32; bfloat16 halves memory)")
    parser.add_argument("--probe-file", help="probe text for methods that read activations: one text per line, "
                        'or .jsonl with one {"text": ...} object per line')
    parser.add_argument("--probe-size", type=int, help="probe texts read (method option probe_size)")
    parser.add_argument("--max-positions", type=int, help="paired token positions kept (activation's max_positions)")
    parser.add_argument("--ridge", type=float, help="relative ridge of the activation fits (method option ridge)")
    parser.add_argument("--seed", type=int, help="seed of the randomized SVD and the control adapter (default 0)")
    parser.add_argument("--no-control", action="store_true", help="do not write the control adapter")
    parser.add_argument("--carried", metavar="DIR", help="also save every module's carried update here")
    parser.add_argument("--from-carried", metavar="DIR",
                        help="apply --threshold to updates saved by --carried (no model is loaded)")
    parser.set_defaults(func=_transfer)


MODEL_ARGS = ("source_model", "source_adapter", "target_model")
# Flags that set an option of the chosen method: argparse dest == the option's name under transfer.<method>.
OPTION_FLAGS = ("probe_size", "max_positions", "ridge")
CARRY_ONLY = ("method", "svd_rank", "dtype", "probe_file", *OPTION_FLAGS, "seed", "carried")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _check_mode(args: argparse.Namespace) -> None:
    """Either a whole transfer (the three model arguments) or a selection from a saved carry — not both."""
    if args.from_carried:
        extra = [_flag(n) for n in MODEL_ARGS + CARRY_ONLY if getattr(args, n) is not None]
        if extra:
            raise PawError(f"--from-carried: {', '.join(extra)} cannot be combined with it — the carry already "
                           "fixed the models, method, svd rank and seed; only --threshold and --no-control apply")
        return
    missing = [_flag(n) for n in MODEL_ARGS if not getattr(args, n)]
    if missing:
        raise PawError(f"paw transfer: {', '.join(missing)} required — expected the source model, its adapter and "
                       "the target model (or --from-carried DIR)")


def flag_keys(method: str) -> dict[str, str | tuple[str, ...]]:
    """The keys (params, or the library's argument names) each flag's value fills: errors about them name the flag."""
    return {"method": "transfer.method", "threshold": "transfer.threshold", "svd_rank": "transfer.svd_rank",
            "dtype": "models.dtype", "probe_file": (f"transfer.{method}.probe_file", "probe_file")} | {
        dest: f"transfer.{method}.{dest}" for dest in OPTION_FLAGS}


def method_options(args: argparse.Namespace, method_name: str) -> dict:
    """`{method: {option: value}}` from the option flags given; a flag the method has no option for is refused."""
    import dataclasses

    given = {dest: getattr(args, dest) for dest in ("probe_file", *OPTION_FLAGS) if getattr(args, dest) is not None}
    if not given:
        return {}
    known = {f.name for f in dataclasses.fields(get_method(method_name).Options)}  # unknown method: listed
    for dest in given:
        if dest not in known:
            raise PawError(f"{_flag(dest)}: --method {method_name} has no option {dest} — its options: "
                           f"{', '.join(sorted(known)) or 'none'}")
    return {method_name: {k: v for k, v in given.items() if k != "probe_file"}}


def probe_loader(args: argparse.Namespace, method_name: str):
    """Reads --probe-file when the method asks for probe text; without one, says which flag to pass."""
    if args.probe_file is None:
        def missing() -> list[str]:
            raise PawError(f"--method {method_name} needs probe text here: pass --probe-file FILE ({FORMATS})")
        return missing
    # The key, not the flag: FlagOrigins turns `transfer.<method>.probe_file = PATH` into `--probe-file PATH`.
    return lambda: read_probe_file(args.probe_file, key=f"transfer.{method_name}.probe_file")


def renamed_flags(args: argparse.Namespace) -> None:
    """`--rank` (the old name of --svd-rank) still works for now, with a deprecation line."""
    import sys

    if args.old_rank is None:
        return
    if args.svd_rank is not None:
        raise PawError("--rank and --svd-rank are both given — --rank is the old name of --svd-rank: keep only "
                       "--svd-rank")
    print("paw: warning: --rank is deprecated — use --svd-rank (the k of the bases' SVDs, not the LoRA rank)",
          file=sys.stderr)
    args.svd_rank, args.old_rank = args.old_rank, None


def _transfer(args: argparse.Namespace) -> int:
    renamed_flags(args)
    _check_mode(args)
    if args.from_carried:
        with given_flags(vars(args), flag_keys("")).named_in_errors():
            result = transfer_from_carried(args.from_carried, args.out, threshold=args.threshold,
                                           control=not args.no_control)
        return _print_result(args.out, result)
    method_name = DEFAULTS.method if args.method is None else args.method
    with given_flags(vars(args), flag_keys(method_name)).named_in_errors():
        # The probe file travels as a loader, not as the probe_file option, so that its .jsonl form is read too.
        result = run_transfer(
            args.source_model, args.source_adapter, args.target_model, args.out, method=method_name,
            threshold=args.threshold, svd_rank=DEFAULTS.svd_rank if args.svd_rank is None else args.svd_rank,
            control=not args.no_control, options=method_options(args, method_name),
            dtype=args.dtype or "float32", seed=0 if args.seed is None else args.seed,
            probe_loader=probe_loader(args, method_name), carried_dir=args.carried,
        )
    return _print_result(args.out, result)


def _print_result(out: str, result: dict) -> int:
    import sys

    totals = result["totals"]
    similarity = similarity_phrase(result["method"], totals["mean_similarity"], totals["mean_chance"])
    print(f"wrote {out}: {totals['modules_kept']}/{totals['modules_considered']} modules kept, {similarity}, "
          f"{totals['seconds']} s")
    warning = warning_line(result.get("suspicious") or [], totals["modules_kept"])
    if warning:
        print(warning, file=sys.stderr)
    return 0
