"""`paw` command line: one subcommand per engine, each defined in its own module of this package.

Errors a user can fix (`PawError`) print as one line and exit with status 2; `--debug` shows the traceback.
Subcommand modules import torch and friends only inside their handlers, so `paw --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from paw.errors import PawError

SUBCOMMANDS = ("models", "toy", "eval", "train", "transfer", "report")
EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paw", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"paw.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_guarded(lambda: args.func(args), debug=args.debug)


def run_guarded(action, debug: bool = False) -> int:
    """Run `action`; turn a PawError into one line on stderr and a non-zero exit."""
    try:
        result = action()
    except PawError as exc:
        if debug:
            traceback.print_exc()
        print(f"paw: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("paw: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if not _is_out_of_memory(exc):
            raise
        if debug:
            traceback.print_exc()
        print(f"paw: error: {OUT_OF_MEMORY}", file=sys.stderr)
        return EXIT_USER_ERROR
    return int(result or 0)


OUT_OF_MEMORY = (
    "out of memory (CPU RAM or GPU) — the batch does not fit: lower envs.<env>.train_batch_size (and raise "
    "grad_accum to keep the effective batch) or envs.<env>.eval_batch_size, use precision bf16-mixed or "
    "models.dtype bfloat16; for a transfer, lower transfer.<method>.max_positions or probe_size"
)
# torch's CPU allocator raises a plain RuntimeError when malloc fails (before the kernel's OOM killer acts).
CPU_ALLOCATION_FAILED = "DefaultCPUAllocator: can't allocate memory"


def _is_out_of_memory(exc: BaseException) -> bool:
    torch = sys.modules.get("torch")
    if isinstance(exc, MemoryError):
        return True
    if isinstance(exc, RuntimeError) and CPU_ALLOCATION_FAILED in str(exc):
        return True
    return torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError)

