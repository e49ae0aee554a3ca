"""The decomposition step: computed once per base from params, reused by every transfer, refused when stale."""

from __future__ import annotations

import pytest
import torch

from paw.config import load_params
from paw.transfer.api import carry_from_params, decompose_from_params, transfer_from_carried_params
from paw.transfer.decompose import read_decomposition, truncated_svd


def test_truncated_svd_matches_exact_on_large_matrix():
    torch.manual_seed(0)
    # A matrix with a decaying spectrum, big enough for the randomized path.
    u, _ = torch.linalg.qr(torch.randn(700, 700))
    v, _ = torch.linalg.qr(torch.randn(600, 600))
    s = 0.8 ** torch.arange(600.0)
    weight = (u[:, :600] * s) @ v.T
    f = truncated_svd(weight, 16, seed=0)
    assert f.U.shape == (700, 16) and f.V.shape == (600, 16)
    assert torch.allclose(f.S, s[:16], rtol=1e-3)
    assert torch.allclose(f.U.T @ f.U, torch.eye(16), atol=1e-4)


def test_pipeline_api_reuses_decompositions(tiny_llama, tiny_qwen2, adapters, probe_file, tmp_path, monkeypatch):
    overrides = {"transfer.svd_rank": 16, "transfer.method": "activation",
                 "transfer.activation": {"probe_file": str(probe_file), "probe_size": 10}}
    params = load_params(overrides=overrides)
    decompose_from_params(params, tiny_llama, tmp_path / "svd" / "source")
    decompose_from_params(params, tiny_qwen2, tmp_path / "svd" / "target")
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "svd").rglob("*") if p.is_file()}
    factors = read_decomposition(tmp_path / "svd" / "target", tiny_qwen2, 16)
    assert all(f.S.shape[0] <= 16 for f in factors.values()) and len(factors) == 3 * 7
    cost = carry_from_params(params, tiny_llama, adapters["llama"], tiny_qwen2, tmp_path / "carried",
                             tmp_path / "svd" / "source", tmp_path / "svd" / "target")
    assert cost["modules_carried"] == cost["modules_considered"] == 3 * 7 and cost["seconds"] > 0
    first = transfer_from_carried_params(params, tmp_path / "carried", tmp_path / "t", carry_cost=cost)
    assert first["method"] == "activation" and first["options"]["probe_size"] == 10
    assert first["totals"]["carry_seconds"] == cost["seconds"]
    for name in ("adapter", "control", "diagnostics.json", "diagnostics.md"):
        assert (tmp_path / "t" / name).exists()
    # A threshold-only change reruns the selection alone: no base is loaded, the decompositions stay untouched.
    import paw.models
    import paw.transfer.bases

    for module in (paw.models, paw.transfer.bases):  # the package's name and the one the transfer calls
        monkeypatch.setattr(module, "load_model", lambda *a, **k: pytest.fail("a base model was loaded"))
    stricter = load_params(overrides={**overrides, "transfer.threshold": 0.3, "transfer.control": False})
    second = transfer_from_carried_params(stricter, tmp_path / "carried", tmp_path / "t")
    assert not (tmp_path / "t" / "control").exists()
    assert second["totals"]["modules_kept"] <= first["totals"]["modules_kept"]
    assert stamps == {p: p.stat().st_mtime_ns for p in (tmp_path / "svd").rglob("*") if p.is_file()}


def test_cached_and_fresh_decompositions_give_the_same_adapter(tiny_llama, tiny_gemma2, adapters, tmp_path):
    from safetensors.torch import load_file

    from paw.transfer.api import decompose, run_transfer

    decompose(tiny_llama, tmp_path / "s", svd_rank=16)
    decompose(tiny_gemma2, tmp_path / "t", svd_rank=16)
    run_transfer(tiny_llama, adapters["llama"], tiny_gemma2, tmp_path / "cached", method="cross_lora", svd_rank=16,
                 source_svd_dir=tmp_path / "s", target_svd_dir=tmp_path / "t")
    run_transfer(tiny_llama, adapters["llama"], tiny_gemma2, tmp_path / "fresh", method="cross_lora", svd_rank=16)
    cached = load_file(str(tmp_path / "cached" / "adapter" / "adapter_model.safetensors"))
    fresh = load_file(str(tmp_path / "fresh" / "adapter" / "adapter_model.safetensors"))
    assert cached.keys() == fresh.keys()
    for key in cached:
        assert torch.allclose(cached[key], fresh[key], atol=1e-5)


def test_probe_text_defaults_to_the_task_questions(tmp_path):
    """Without probe_file, the probe is the train split's question texts (no answers) via paw.data."""
    pytest.importorskip("paw.data.registry")
    import json

    from paw.transfer.engine import task_probe_texts

    row = {"id": "q1", "question": "Which metal is liquid at room temperature?",
           "choices": {"text": ["iron", "mercury"], "label": ["A", "B"]}, "answerKey": "B"}
    (tmp_path / "train.jsonl").write_text(json.dumps(row) + "\n")
    texts = task_probe_texts("arc-easy", str(tmp_path))
    assert texts == ["Question: Which metal is liquid at room temperature?\nAnswer:"]
