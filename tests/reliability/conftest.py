"""Fixtures for the bad-input matrix: broken copies of tiny models, adapters and datasets."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.pipeline.dvc_repo import env


@pytest.fixture(scope="session")
def arc_rows(benchmarks_dir) -> list[dict]:
    lines = (benchmarks_dir / "arc_easy" / "test.jsonl").read_text().splitlines()[:12]
    return [json.loads(line) for line in lines]


@pytest.fixture(scope="session")
def llama_adapter(tiny_llama, tmp_path_factory) -> Path:
    """A valid rank-2 adapter for tiny_llama (random q/v updates), written as PEFT writes one."""
    import torch

    from paw.models import load_model, write_adapter

    model = load_model(tiny_llama)
    gen = torch.Generator().manual_seed(0)
    weights = {
        name: (torch.randn(2, m.in_features, generator=gen) * 0.1, torch.randn(m.out_features, 2, generator=gen) * 0.1)
        for name, m in model.named_modules()
        if name.endswith(("q_proj", "v_proj"))
    }
    out = tmp_path_factory.mktemp("adapters") / "llama"
    write_adapter(out, weights, r=2, alpha=4, base_model_name="llama")
    return out


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def copy_without(source: Path, dest: Path, *names: str) -> Path:
    shutil.copytree(source, dest)
    for name in names:
        (dest / name).unlink()
    return dest


def paw(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paw.cli", *args], cwd=cwd, env=env(), capture_output=True, text=True)


def stage(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "stages" / script), *args], cwd=cwd, env=env(), capture_output=True, text=True
    )
