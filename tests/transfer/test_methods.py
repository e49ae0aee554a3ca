"""Every method on every pair of tiny architectures: the output loads on the target; diagnostics are complete."""

from __future__ import annotations

import json

import pytest
import torch

from paw.errors import PawError
from paw.models import attach_adapter, load_model, read_adapter
from paw.transfer.api import known_methods, run_transfer
from tests.transfer.conftest import adapted_logits, make_adapter

PAIRS = [("llama", "qwen2"), ("qwen2", "gemma2"), ("gemma2", "llama"), ("llama", "llama")]
SAME_SHAPES_ONLY = {"copy", "projection"}


def _options(method, probe_file):
    return {method: {"probe_file": str(probe_file), "probe_size": 20}} if method == "activation" else {}


@pytest.mark.parametrize("method", ["copy", "projection", "cross_lora", "aligned", "activation"])
@pytest.mark.parametrize("source,target", PAIRS)
def test_method_output_loads_on_target(method, source, target, tiny_models, adapters, probe_file, tmp_path):
    out = tmp_path / "out"
    run = lambda: run_transfer(  # noqa: E731
        tiny_models[source], adapters[source], tiny_models[target], out, method=method, svd_rank=16,
        options=_options(method, probe_file),
    )
    if method in SAME_SHAPES_ONLY and source != target:
        with pytest.raises(PawError, match=f"{method} needs identical module shapes"):
            run()
        assert not out.exists()
        return
    diagnostics = run()
    info = read_adapter(out / "adapter")
    assert info.r == read_adapter(adapters[source]).r and info.base_model == tiny_models[target].name
    ids = torch.tensor([[3, 4, 5, 6]])
    with torch.no_grad():
        base_logits = load_model(tiny_models[target])(input_ids=ids).logits
        logits = attach_adapter(load_model(tiny_models[target]), out / "adapter")(input_ids=ids).logits
    assert torch.isfinite(logits).all()
    # The kept modules reach the target: its outputs move (the control is tested against the adapter elsewhere).
    assert diagnostics["totals"]["modules_kept"] > 0 and float((logits - base_logits).abs().max()) > 1e-6
    # Every target module of an adapted kind is accounted for: kept, or skipped with a reason.
    target_model = load_model(tiny_models[target], cache=True)
    n_sites = sum(1 for p, m in target_model.named_modules() if hasattr(m, "in_features") and ".layers." in p)
    assert len(diagnostics["modules"]) == n_sites
    for record in diagnostics["modules"]:
        assert record["kept"] or record["reason"]
        if record.get("similarity") is not None:
            assert 0 <= record["similarity"] <= 1 and 0 < record["chance"] <= 1
    on_disk = json.loads((out / "diagnostics.json").read_text())
    assert on_disk["totals"]["modules_kept"] == len(info.shapes)
    assert "| target module " in (out / "diagnostics.md").read_text()


def test_registry_lists_every_method():
    assert set(known_methods()) == {"copy", "projection", "cross_lora", "aligned", "activation", "distill"}


def test_copy_reproduces_source_outputs(tiny_llama, adapters, tmp_path):
    """Tolerance: logits equal to 1e-5 relative (float32 round-off only)."""
    run_transfer(tiny_llama, adapters["llama"], tiny_llama, tmp_path / "out", method="copy", svd_rank=16)
    ids = torch.tensor([[5, 40, 77, 120, 200, 31]])
    expected = adapted_logits(tiny_llama, adapters["llama"], ids)
    got = adapted_logits(tiny_llama, tmp_path / "out" / "adapter", ids)
    assert (got - expected).norm() / expected.norm() < 1e-5


def test_projection_reproduces_source_outputs_at_full_rank(tiny_llama, tmp_path):
    """LoRA-X keeps only the update inside the target weight's singular subspaces; at rank = the hidden size those
    are the whole space for the square attention modules, so the source behaviour returns (1e-4 relative). For
    gate/up (128×64) the part of ΔW outside the weight's column space is dropped by design, so they are left out."""
    adapter = make_adapter(tiny_llama, tmp_path / "attn", kinds=("q_proj", "k_proj", "v_proj", "o_proj"), seed=3)
    run_transfer(tiny_llama, adapter, tiny_llama, tmp_path / "out", method="projection", svd_rank=64)
    ids = torch.tensor([[5, 40, 77, 120, 200, 31]])
    base = adapted_logits(tiny_llama, None, ids)
    expected = adapted_logits(tiny_llama, adapter, ids)
    got = adapted_logits(tiny_llama, tmp_path / "out" / "adapter", ids)
    assert (expected - base).norm() / base.norm() > 0.05  # the adapter really changes the outputs
    assert (got - expected).norm() / (expected - base).norm() < 1e-4


def test_cross_lora_reports_no_similarity_across_shapes(tiny_llama, tiny_qwen2, adapters, tmp_path):
    result = run_transfer(tiny_llama, adapters["llama"], tiny_qwen2, tmp_path / "out", method="cross_lora",
                          svd_rank=16, threshold=0.99)
    kept = [r for r in result["modules"] if r["kept"]]
    assert kept and all(r["similarity"] is None for r in kept)  # no common space: threshold not applied


def test_control_matches_norms_not_directions(tiny_llama, tiny_qwen2, adapters, tmp_path):
    from safetensors.torch import load_file

    for name in ("a", "b"):
        run_transfer(tiny_llama, adapters["llama"], tiny_qwen2, tmp_path / name, method="aligned", svd_rank=16, seed=7)
    adapter = load_file(str(tmp_path / "a" / "adapter" / "adapter_model.safetensors"))
    control = load_file(str(tmp_path / "a" / "control" / "adapter_model.safetensors"))
    again = load_file(str(tmp_path / "b" / "control" / "adapter_model.safetensors"))
    assert adapter.keys() == control.keys()
    for key in (k for k in adapter if "lora_A" in k):
        b_key = key.replace("lora_A", "lora_B")
        delta, random = adapter[b_key] @ adapter[key], control[b_key] @ control[key]
        assert torch.isclose(random.norm(), delta.norm(), rtol=1e-4)
        cosine = (delta * random).sum() / (delta.norm() * random.norm())
        assert abs(float(cosine)) < 0.5
        assert torch.equal(control[key], again[key])  # seeded


@pytest.mark.parametrize("method", ["aligned", "cross_lora", "projection"])
def test_raising_threshold_never_raises_coverage(method, tiny_llama, llama_sibling, adapters, tmp_path):
    """A same-shaped, independently initialised target: similarities scatter around chance, so the thresholds
    below cut through them. The decompositions are computed once and reused by every threshold."""
    from paw.transfer.api import decompose

    decompose(tiny_llama, tmp_path / "svd_s", svd_rank=16)
    decompose(llama_sibling, tmp_path / "svd_t", svd_rank=16)
    coverages = []
    for threshold in (0.0, 0.2, 0.22, 0.24, 0.3, 1.0):
        try:
            result = run_transfer(tiny_llama, adapters["llama"], llama_sibling, tmp_path / f"t{threshold}",
                                  method=method, svd_rank=16, threshold=threshold, source_svd_dir=tmp_path / "svd_s",
                                  target_svd_dir=tmp_path / "svd_t")
            coverages.append(result["totals"]["coverage"])
        except PawError as exc:  # nothing left above the threshold: coverage 0
            assert "no module was transferred" in str(exc)
            assert not (tmp_path / f"t{threshold}").exists()
            coverages.append(0.0)
    assert coverages == sorted(coverages, reverse=True)
    assert coverages[0] == 1.0 and coverages[-1] == 0.0 and len(set(coverages)) > 2
