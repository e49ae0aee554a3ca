"""Atomic outputs: write into a temporary sibling, rename into place only when complete.

DVC (and every later stage) must never mistake a half-written directory for a finished one, so a stage that is
killed midway leaves only a `.tmp-*` sibling behind, which the next run removes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from paw.errors import PawError


def _check_parent_writable(path: Path) -> None:
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PawError(f"{path}: cannot create the parent directory ({exc.strerror})") from None
    if not os.access(parent, os.W_OK):
        raise PawError(f"{path}: the directory {parent} is not writable")


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def remove_stale_temporaries(path: Path) -> None:
    """Remove leftovers of an earlier interrupted write of `path`."""
    for stale in path.parent.glob(f".tmp-{path.name}-*"):
        remove_path(stale)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary directory; on success it replaces `path`, on error it is removed."""
    path = Path(path)
    _check_parent_writable(path)
    remove_stale_temporaries(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{path.name}-", dir=path.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    honour_umask(tmp)
    if path.exists() or path.is_symlink():
        remove_path(path)
    os.replace(tmp, path)


def honour_umask(root: Path) -> None:
    """Give `root` and everything in it the modes an ordinary mkdir/open would under the current umask.

    mkdtemp makes the directory 0700, and writers that go through their own temporary file make 0600 files
    (safetensors' `save_file`, hence every model.safetensors and adapter_model.safetensors) while the config
    files beside them are 0644: the weights would then be unreadable to the group a shared model dir is for.
    Executable files keep their x bits (as far as the umask allows)."""
    mask = _umask()
    os.chmod(root, 0o777 & ~mask)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            if not os.path.islink(os.path.join(folder, name)):  # a link's target is not ours to change
                os.chmod(os.path.join(folder, name), 0o777 & ~mask)
        for name in files:
            file = os.path.join(folder, name)
            if os.path.islink(file):
                continue
            executable = os.stat(file).st_mode & 0o100
            os.chmod(file, (0o777 if executable else 0o666) & ~mask)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "w") -> Iterator[Any]:
    """Open a temporary sibling for writing; it replaces `path` when the block ends without error."""
    path = Path(path)
    _check_parent_writable(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write JSON atomically, keys in insertion order, with a trailing newline (stable diffs in git)."""
    with atomic_file(path) as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    path = Path(path)
    if not path.is_file():
        raise PawError(f"{path}: file not found")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise PawError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
