"""Evaluation fixtures: local data dirs in the hub schema (real rows and quirk fixtures) and a random LoRA."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.fixtures import ROWS, write_jsonl


def make_lora(model_dir: Path, out_dir: Path, r: int = 4, seed: int = 0, scale: float = 0.3) -> Path:
    """A random LoRA on q/v/down projections, large enough to move the scores."""
    import torch

    from paw.models import load_model, write_adapter

    model = load_model(model_dir)
    gen = torch.Generator().manual_seed(seed)
    weights = {}
    for name, module in model.named_modules():
        if name.rsplit(".", 1)[-1] in ("q_proj", "v_proj", "down_proj"):
            weights[name] = (torch.randn(r, module.in_features, generator=gen) * scale,
                             torch.randn(module.out_features, r, generator=gen) * scale)
    write_adapter(out_dir, weights, r=r, alpha=2 * r, base_model_name=model_dir.name)
    return out_dir


@pytest.fixture(scope="session")
def fixture_data(tmp_path_factory) -> dict[str, Path]:
    """{task name: data dir} holding the quirk fixtures as <default split>.jsonl."""
    from paw.data import get_task

    root = tmp_path_factory.mktemp("eval_fixture_data")
    out = {}
    for name, rows in ROWS.items():
        task = get_task(name)
        out[name] = write_jsonl(root / name / f"{task.default_split}.jsonl", rows).parent
    return out


@pytest.fixture(scope="session")
def llama_lora(tiny_llama, tmp_path_factory) -> Path:
    return make_lora(tiny_llama, tmp_path_factory.mktemp("lora") / "llama-lora")
