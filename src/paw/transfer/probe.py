"""Reading a probe file: the unlabeled texts whose activations `activation` (and `aligned` with a CKA layer map) fit.

Two formats, told apart by the suffix:
- `.jsonl`: one JSON object per line with a string "text" field. A text may span lines, so the pipeline's own
  prompts (`Question: …\\nAnswer:`) fit; other fields are ignored.
- anything else: plain UTF-8 text, one probe text per line.
"""

from __future__ import annotations

import json
from pathlib import Path

from paw.errors import PawError

FORMATS = 'a text file (one probe text per line) or a .jsonl file (one {"text": …} object per line)'


def read_probe_file(path: str | Path, key: str = "probe_file") -> list[str]:
    """The texts of the probe file at `path`; `key` names where the path came from in errors (a params key or,
    through `paw.config.origins`, a flag)."""
    file = Path(path)
    if not file.is_file():
        raise PawError(f"{key} = {path} — file not found: expected {FORMATS}")
    lines = file.read_text(encoding="utf-8").splitlines()
    if file.suffix != ".jsonl":
        return lines
    texts = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise PawError(f"{key} = {path} — line {number} is not a JSON object with a string \"text\" field: "
                           f"expected {FORMATS}")
        texts.append(row["text"])
    return texts
