"""`paw` command line: one subcommand per engine, each defined in its own module of this package.

Errors a user can fix (`PawError`) print as one line and exit with status 2; `--debug` shows the traceback.
Subcommand modules import torch and friends only inside their handlers, so `paw --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib

from paw.errors import EXIT_USER_ERROR, OUT_OF_MEMORY, run_guarded  # noqa: F401  (the CLI's contract, re-exported)

SUBCOMMANDS = ("models", "toy", "eval", "train", "transfer", "report")


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
