"""`paw toy build`: write the embedded toy world (questions, corpus, tokenizer, four toy bases) for `quick`."""

from __future__ import annotations

import argparse
from paw.config import load_params
from paw.toy.build import build_base, build_corpus, build_world

STEPS = ("corpus", "source", "sibling", "grown", "independent")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("toy", help="the embedded synthetic world the quick environment runs on")
    commands = parser.add_subparsers(dest="toy_command", required=True, metavar="SUBCOMMAND")
    build = commands.add_parser("build", help="build the toy data and bases (deterministic for a seed)")
    build.add_argument("--seed", type=int, default=None, help="world seed (default: toy.seed in params.yaml)")
    build.add_argument("--models-dir", default="models", help="where toy-<base> model dirs go (default: models)")
    build.add_argument("--data-dir", default="data/toy", help="where questions, corpus and world.json go")
    build.add_argument("--params", default="params.yaml", help="params file holding the toy section")
    build.add_argument(
        "--only", choices=STEPS, default=None,
        help="build one step (corpus first; sibling and grown need the source) instead of everything",
    )
    build.set_defaults(func=_build)


def _build(args: argparse.Namespace) -> int:
    import json

    overrides = {} if args.seed is None else {"toy.seed": args.seed}
    toy = load_params(args.params, overrides=overrides).toy
    if args.only == "corpus":
        summary = build_corpus(toy, args.data_dir)
    elif args.only:
        summary = build_base(args.only, toy, args.models_dir, args.data_dir)
    else:
        summary = build_world(toy, args.models_dir, args.data_dir)
    print(json.dumps(summary, indent=2))
    return 0
