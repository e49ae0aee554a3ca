"""Is the alignment real? A synthetic target that is the source with its hidden basis rotated (h ↦ Q·h in every
weight and embedding) and an identity block (a copy of each layer with zero o_proj/down_proj) inserted after every
layer computes exactly the source's function. `aligned` and `activation` must recover the source adapter's
behaviour on it; `copy`-style methods, which assume the same basis and matching layer names, cannot."""

from __future__ import annotations

import json

import pytest
import torch

from paw.transfer.api import run_transfer
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
    result = run_transfer(tiny_llama, adapters["llama"], rotated, tmp_path / "out", method=method, svd_rank=16,
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


def test_activation_with_q_wider_than_residual(tiny_qwen3, probe_file, tmp_path):
    """Raw q outputs span only the residual's 32 directions of their 64; the fit must still carry all of B."""
    torch.manual_seed(1)
    q, _ = torch.linalg.qr(torch.randn(32, 32))
    target = rotated_deepened(tiny_qwen3, tmp_path / "qwen3-rotated", q)
    adapter = make_adapter(tiny_qwen3, tmp_path / "adapter", seed=3)
    options = {"layer_map": "cka", "ridge": 1.0e-9, "probe_file": str(probe_file)}
    run_transfer(tiny_qwen3, adapter, target, tmp_path / "out", method="activation", svd_rank=16,
                 options={"activation": options})
    base = adapted_logits(tiny_qwen3, None, IDS)
    expected = adapted_logits(tiny_qwen3, adapter, IDS)
    assert (adapted_logits(target, None, IDS) - base).norm() / base.norm() < 1e-4  # the same function
    got = adapted_logits(target, tmp_path / "out" / "adapter", IDS)
    assert float((got - expected).norm() / (expected - base).norm()) < RECOVERED


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


# On the real model the activation fits need real text: layer 0's activations depend on the token alone, so the
# probe must hold more distinct tokens than q is wide (1024), and the 2048-wide MLP intermediate needs more positions
# than that. 4096 positions of ARC-Easy questions gave 3e-5 (3072: 0.05; 2048: 0.14; the 100-word toy corpus: 0.9).
GEMMA3_ACTIVATION = {"ridge": 1.0e-9, "probe_size": 400, "max_positions": 4096}


def question_probe(benchmarks_dir, path, n: int):
    """The first n ARC-Easy train questions (no answers), one per line."""
    rows = (benchmarks_dir / "arc_easy" / "train.jsonl").read_text(encoding="utf-8").splitlines()[:n]
    path.write_text("\n".join(json.loads(row)["question"] for row in rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("method", ["aligned", "activation", "copy"])
def test_alignment_on_gemma3(method, gemma3_dir, gemma3_pair, tmp_path, request):
    target, adapter, ids, base, expected = gemma3_pair
    if method == "activation":
        probe = question_probe(request.getfixturevalue("benchmarks_dir"), tmp_path / "probe.txt", 400)
        options = {"layer_map": "cka", "probe_file": str(probe), **GEMMA3_ACTIVATION}
    else:
        options = {"layer_map": "cka", "probe_file": str(write_probe(tmp_path / "probe.txt", lines=8)),
                   "ridge": 1.0e-9, "probe_size": 8}
    run_transfer(gemma3_dir, adapter, target, tmp_path / "out", method=method, svd_rank=64,
                 options={method: options} if method != "copy" else {})
    got = adapted_logits(target, tmp_path / "out" / "adapter", ids)
    error = float((got - expected).norm() / (expected - base).norm())
    if method == "copy":
        assert error > NOT_RECOVERED
    else:
        assert error < RECOVERED
