"""Untrusted files let nothing in: no pickle is ever unpickled, no model code runs unless params allow it."""

from __future__ import annotations

import pickle
import re
import shutil
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.reliability.conftest import paw, write_jsonl

SOURCES = sorted((REPO_ROOT / "src" / "paw").rglob("*.py")) + sorted((REPO_ROOT / "stages").glob("*.py"))


class WritesMarker:
    """Unpickling this object writes a file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pickle code ran"))


def test_no_unsafe_loaders_in_the_code():
    for path in SOURCES:
        text = path.read_text()
        for call in re.finditer(r"torch\.load\(([^)]*)\)", text):
            assert "weights_only=True" in call.group(1), f"{path}: {call.group(0)}"
        assert not re.search(r"\bpickle\.loads?\(", text), path
        assert not re.search(r"trust_remote_code\s*=\s*True", text), path


def test_pickled_adapter_never_runs(tiny_llama, llama_adapter, tmp_path, arc_rows):
    marker = tmp_path / "ran.txt"
    adapter = Path(shutil.copytree(llama_adapter, tmp_path / "adapter"))
    (adapter / "adapter_model.safetensors").unlink()
    (adapter / "adapter_model.bin").write_bytes(pickle.dumps(WritesMarker(marker)))
    out = tmp_path / "out"
    result = paw("eval", "--model", str(tiny_llama), "--adapter", str(adapter), "--dataset", "arc-easy",
                 "--data-path", str(write_jsonl(tmp_path / "d.jsonl", arc_rows)), "--out", str(out))
    assert result.returncode != 0 and "pickle" in result.stderr
    assert not marker.exists() and not out.exists()


def test_pickled_model_never_runs(tiny_llama, tmp_path, arc_rows):
    marker = tmp_path / "ran.txt"
    model = Path(shutil.copytree(tiny_llama, tmp_path / "model"))
    (model / "model.safetensors").unlink()
    (model / "pytorch_model.bin").write_bytes(pickle.dumps(WritesMarker(marker)))
    out = tmp_path / "out"
    result = paw("eval", "--model", str(model), "--dataset", "arc-easy",
                 "--data-path", str(write_jsonl(tmp_path / "d.jsonl", arc_rows)), "--out", str(out))
    assert result.returncode != 0 and "pickle" in result.stderr
    assert not marker.exists() and not out.exists()
