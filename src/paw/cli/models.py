"""`paw models import-gguf FILE --out DIR`: turn a GGUF causal LM into an ordinary safetensors model directory."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="model utilities")
    commands = parser.add_subparsers(dest="models_command", required=True, metavar="SUBCOMMAND")
    gguf = commands.add_parser("import-gguf", help="convert a GGUF causal LM file to a safetensors HF directory")
    gguf.add_argument("file", help="path to the .gguf file")
    gguf.add_argument("--out", required=True, help="model directory to write")
    gguf.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"))
    gguf.set_defaults(func=_import_gguf)


def _import_gguf(args: argparse.Namespace) -> int:
    from paw.models.gguf import import_gguf

    out = import_gguf(args.file, args.out, dtype=args.dtype)
    print(f"wrote {out}")
    return 0
