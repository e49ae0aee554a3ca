"""Across model families on real bases: Gemma 3 270M (262k vocabulary, width 640, 18 layers) → Qwen2.5-Coder-0.5B
(151k vocabulary, width 896, 24 layers). `aligned` and `activation` write adapters that plain PEFT loads onto the
target and that change its outputs: slow."""

from __future__ import annotations

import json

import pytest
import torch

from paw.transfer.api import run_transfer
from tests.transfer.conftest import make_adapter


@pytest.fixture(scope="module")
def gemma_adapter(gemma3_dir, tmp_path_factory):
    """A random LoRA on three Gemma layers' q/v, each update a fifth of its weight."""
    return make_adapter(gemma3_dir, tmp_path_factory.mktemp("gemma-lora") / "adapter", kinds=("q_proj", "v_proj"),
                        strength=0.2, layers={0, 8, 17})


@pytest.fixture(scope="module")
def arc_probe(benchmarks_dir, tmp_path_factory):
    """The pipeline's own probe texts (two-line cloze prompts), as a .jsonl probe file."""
    from paw.data import get_task

    task = get_task("arc-easy")
    rows = task.load_rows("train", benchmarks_dir / "arc_easy")[:120]
    path = tmp_path_factory.mktemp("probe") / "probe.jsonl"
    path.write_text("".join(json.dumps({"text": task.to_item(r, i).contexts[0]}) + "\n" for i, r in enumerate(rows)))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("method", ["aligned", "activation"])
def test_gemma3_to_qwen_adapter_loads_with_peft_and_changes_outputs(method, gemma3_dir, qwen05_dir, gemma_adapter,
                                                                    arc_probe, tmp_path):
    from peft import PeftModel

    from paw.models import load_model, load_tokenizer

    options = {"activation": {"probe_file": str(arc_probe), "probe_size": 120, "max_positions": 1024}}
    diagnostics = run_transfer(gemma3_dir, gemma_adapter, qwen05_dir, tmp_path / "out", method=method, svd_rank=16,
                               options=options if method == "activation" else {})
    assert diagnostics["totals"]["modules_kept"] > 0
    ids = load_tokenizer(qwen05_dir)("Question: Which gas do plants absorb?\nAnswer:", return_tensors="pt")
    base = load_model(qwen05_dir, cache=False)  # PEFT wraps it in place: not the shared cached copy
    with torch.no_grad():
        before = base(**ids).logits.float()
        adapted = PeftModel.from_pretrained(base, str(tmp_path / "out" / "adapter")).eval()
        after = adapted(**ids).logits.float()
    assert torch.isfinite(after).all()
    assert float((after - before).abs().max()) > 1e-3
