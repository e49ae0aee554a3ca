"""`paw report`: build the report from params.yaml and the reports directory.

`paw report sweep [--param transfer.threshold]`: tabulate and chart the transferred adapter across DVC experiments.
"""

from __future__ import annotations

import argparse
from paw.config import load_params


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="write reports/summary.{json,csv,md} and accuracy.png")
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    parser.add_argument("--reports-dir", default="reports", help="where the pipeline wrote its outputs")
    parser.add_argument("--transfer-diagnostics", default=None,
                        help="the transfer's diagnostics.json (default: REPORTS_DIR/transfer/diagnostics.json)")
    parser.set_defaults(func=_report)
    commands = parser.add_subparsers(dest="report_command", metavar="SUBCOMMAND")
    sweep = commands.add_parser("sweep", help="accuracy and coverage against a parameter across DVC experiments")
    sweep.add_argument("--param", default="transfer.threshold", help="dotted params key that was swept")
    sweep.add_argument("--repo", default=".", help="the DVC repository (default: current directory)")
    sweep.add_argument("--out", default="reports", help="output directory, relative to the repository")
    sweep.set_defaults(func=_sweep)


def _report(args: argparse.Namespace) -> int:
    from paw.reporting.api import build_report, recovery_sentence

    summary = build_report(load_params(args.params), args.reports_dir, args.transfer_diagnostics)
    print(f"wrote {args.reports_dir}/summary.md — {recovery_sentence(summary)}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from paw.reporting.api import build_sweep

    rows = build_sweep(args.repo, args.param, args.out)
    print(f"wrote {args.out}/sweep.md ({len(rows)} revisions)")
    return 0
