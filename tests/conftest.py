"""Shared fixtures: tiny offline models of three architectures (built once per test run), threads pinned to one.

Tiny models run fastest with one thread per process; several test processes with several threads each were
tens of times slower on a 2-core machine.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO_ROOT.parent / "shared" / "benchmarks"
GEMMA3_DIR = REPO_ROOT / "models" / "gemma-3-270m"
QWEN05_DIR = REPO_ROOT / "models" / "qwen2.5-coder-0.5b-instruct"


def pytest_configure(config):
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """{'llama': dir, 'qwen2': dir, 'gemma2': dir}: tiny random models with different dims and vocabularies."""
    from tests.tiny_models import build_model

    root = tmp_path_factory.mktemp("tiny_models")
    return {arch: build_model(arch, root / arch, seed=i) for i, arch in enumerate(("llama", "qwen2", "gemma2"))}


@pytest.fixture(scope="session")
def tiny_llama(tiny_models) -> Path:
    return tiny_models["llama"]


@pytest.fixture(scope="session")
def tiny_qwen2(tiny_models) -> Path:
    return tiny_models["qwen2"]


@pytest.fixture(scope="session")
def tiny_gemma2(tiny_models) -> Path:
    return tiny_models["gemma2"]


@pytest.fixture(scope="session")
def benchmarks_dir() -> Path:
    if not BENCHMARKS.is_dir():
        pytest.skip(f"{BENCHMARKS} not present")
    return BENCHMARKS


@pytest.fixture(scope="session")
def gemma3_dir() -> Path:
    """The real Gemma 3 270M, built by the test command (`paw models fetch gemma-3-270m`)."""
    return _built(GEMMA3_DIR)


@pytest.fixture(scope="session")
def qwen05_dir() -> Path:
    """The real Qwen2.5-Coder-0.5B-Instruct (151k vocabulary, no BOS, tied head), built by the test command."""
    return _built(QWEN05_DIR)


def _built(model_dir: Path) -> Path:
    if not (model_dir / "config.json").is_file():
        pytest.fail(f"{model_dir} missing — run `make real-models` (or `paw models fetch {model_dir.name}`)")
    return model_dir
