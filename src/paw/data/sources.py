"""Rows of a task's split from a local path or the hub, checked against the task's fields.

Local data is in the hub schema: a directory holding `<split>.jsonl` (or `.json` / `.parquet`), or one such file
(used whatever the split). Every row is checked; a problem names the file, the row and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paw.errors import PawError

if TYPE_CHECKING:
    from paw.data.base import Task

SUFFIXES = (".jsonl", ".json", ".parquet")


def load_task_rows(task: "Task", split: str, data_path: str | Path | None) -> list[dict]:
    if data_path is None:
        if task.hub_id is None:
            raise PawError(
                f"dataset {task.name} has no hub copy — set data.data_path (e.g. data/toy, written by `paw toy`)"
            )
        rows, source = _hub_rows(task, split), f"{task.hub_id}[{split}]"
    else:
        file = split_file(Path(data_path), split)
        rows, source = read_rows_file(file), str(file)
    if not rows:
        raise PawError(f"{source}: no rows — expected at least one {task.name} row")
    for index, row in enumerate(rows):
        task.check_row(row, f"{source}: row {index}")
    return rows


def split_file(data_path: Path, split: str) -> Path:
    """The file holding `split` under `data_path` (or `data_path` itself when it is a file)."""
    if data_path.is_file():
        return data_path
    if not data_path.is_dir():
        raise PawError(f"{data_path}: data path not found — expected a directory of <split>.jsonl files or one file")
    for suffix in SUFFIXES:
        candidate = data_path / f"{split}{suffix}"
        if candidate.is_file():
            return candidate
    present = sorted(p.name for p in data_path.iterdir() if p.suffix in SUFFIXES)
    raise PawError(
        f"{data_path}: no {split}.jsonl, {split}.json or {split}.parquet — "
        f"found {', '.join(present) if present else 'no data files'}"
    )


def read_rows_file(path: Path) -> list[Any]:
    if path.suffix == ".parquet":
        return _read_parquet(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json" and text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PawError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        return list(rows)
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise PawError(
                f"{path}: line {number} is not valid JSON ({exc.msg}) — expected one object per line"
            ) from None
    return rows


def _read_parquet(path: Path) -> list[dict]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a corrupt file
        raise PawError(f"{path}: not a readable parquet file ({exc})") from None
    return table.to_pylist()


def _hub_rows(task: "Task", split: str) -> list[dict]:
    import datasets

    try:
        dataset = datasets.load_dataset(task.hub_id, task.hub_config, split=split)
    except ValueError as exc:
        raise PawError(f"{task.hub_id}: split {split!r} could not be loaded ({str(exc).splitlines()[0]})") from None
    except (OSError, ConnectionError) as exc:
        raise PawError(
            f"{task.hub_id}: could not be downloaded ({str(exc).splitlines()[0]}) — "
            "set data.data_path to a local copy in the hub schema"
        ) from None
    return [dict(row) for row in dataset]
