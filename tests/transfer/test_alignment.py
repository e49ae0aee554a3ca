"""Is the alignment real? A synthetic target that is the source with its hidden basis rotated (h ↦ Q·h in every
weight and embedding) and an identity block (a copy of each layer with zero o_proj/down_proj) inserted after every
layer computes exactly the source's function. `aligned` and `activation` must recover the source adapter's
behaviour on it; `copy`-style methods, which assume the same basis and matching layer names, cannot."""

from __future__ import annotations

import pytest
import torch

from paw.transfer import run_transfer
from tests.transfer.conftest import adapted_logits, make_adapter, rotated_deepened, write_probe

IDS = torch.tensor([[5, 40, 77, 120, 200, 31, 9, 250, 18, 66, 101, 7]])
RECOVERED = 1e-2  # ‖logits(target+transfer) − logits(source+adapter)‖ / ‖adapter's own effect‖
NOT_RECOVERED = 0.5
CASES = {
    "aligned": {"layer_map": "cka"},
    # The residual-stream inputs have a few low-variance directions on which the adapter acts: a weak ridge is needed.
    "activation": {"layer_map": "cka", "ridge": 1.0e-9},
    "copy": {},
    "cross_lora": {},
}


@pytest.fixture(scope="module")
def rotated(tiny_llama, tmp_path_factory):
    """Tiny Llama has uniform RMSNorm gains (all ones), so any orthogonal Q leaves its function unchanged."""
    torch.manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(64, 64))
    return rotated_deepened(tiny_llama, tmp_path_factory.mktemp("rotated") / "llama-rotated", q)


def test_synthetic_target_is_the_same_function(tiny_llama, rotated):
    base_s, base_t = adapted_logits(tiny_llama, None, IDS), adapted_logits(rotated, None, IDS)
    assert (base_t - base_s).norm() / base_s.norm() < 1e-4


@pytest.mark.parametrize("method", list(CASES))
def test_alignment_recovers_source_behaviour(method, tiny_llama, rotated, adapters, probe_file, tmp_path):
    options = {**CASES[method], "probe_file": str(probe_file)} if CASES[method] else {}
    result = run_transfer(tiny_llama, adapters["llama"], rotated, tmp_path / "out", method=method, rank=16,
                          options={method: options} if options else {})
    base = adapted_logits(tiny_llama, None, IDS)
    expected = adapted_logits(tiny_llama, adapters["llama"], IDS)
    got = adapted_logits(rotated, tmp_path / "out" / "adapter", IDS)
    error = float((got - expected).norm() / (expected - base).norm())
    if method in ("aligned", "activation"):
        assert result["layers"] == {"0": 0, "1": None, "2": 1, "3": None}  # the identity blocks get no adapter
        assert error < RECOVERED
    else:
        assert error > NOT_RECOVERED


@pytest.fixture(scope="module")
def gemma3_pair(gemma3_dir, tmp_path_factory):
    """The real Gemma 3 270M and its rotated, deepened twin. Its RMSNorm gains differ per coordinate, so Q is a
    signed permutation (gains permuted alike); the adapter is a random update of 5% of each weight's norm on the
    first four layers."""
    root = tmp_path_factory.mktemp("gemma3")
    generator = torch.Generator().manual_seed(0)
    perm = torch.randperm(640, generator=generator)
    signs = torch.randint(0, 2, (640,), generator=generator).float() * 2 - 1
    q = torch.zeros(640, 640)
    q[torch.arange(640), perm] = signs
    target = rotated_deepened(gemma3_dir, root / "gemma3-rotated", q)
    adapter = make_adapter(gemma3_dir, root / "adapter", r=8, alpha=16, seed=1, strength=0.05, layers=range(4))
    ids = torch.tensor([[2, 818, 5279, 529, 7001, 563, 9405, 236761, 107, 3689]])
    base = adapted_logits(gemma3_dir, None, ids)
    assert (adapted_logits(target, None, ids) - base).norm() / base.norm() < 1e-4  # the same function
    return target, adapter, ids, base, adapted_logits(gemma3_dir, adapter, ids)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["aligned", "copy"])
def test_alignment_on_gemma3(method, gemma3_dir, gemma3_pair, tmp_path):
    """`activation` is not run here: with a ~2k-token probe from the 100-word test corpus its fits on the real
    model did not recover the adapter (relative error 0.42, 160 s); the tiny-model test above covers its maths."""
    target, adapter, ids, base, expected = gemma3_pair
    options = {"layer_map": "cka", "probe_file": str(write_probe(tmp_path / "probe.txt", lines=8)),
               "ridge": 1.0e-9, "probe_size": 8}
    run_transfer(gemma3_dir, adapter, target, tmp_path / "out", method=method, rank=64,
                 options={method: options} if method != "copy" else {})
    got = adapted_logits(target, tmp_path / "out" / "adapter", ids)
    error = float((got - expected).norm() / (expected - base).norm())
    if method == "copy":
        assert error > NOT_RECOVERED
    else:
        assert error < RECOVERED
