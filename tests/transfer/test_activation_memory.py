"""`activation` on real models is bounded by memory: each activation it fits on is captured once, what a layer no
longer needs is freed as the carry moves on, and a probe that cannot fit is refused before it starts."""

from __future__ import annotations

import pytest

from paw.errors import PawError
from paw.transfer.api import run_transfer
from paw.transfer.methods import activation as method


def _options(probe_file, **extra):
    return {"activation": {"probe_file": str(probe_file), "probe_size": 20, **extra}}


def test_shared_inputs_are_captured_once_and_released_layer_by_layer(tiny_models, adapters, probe_file, tmp_path,
                                                                   monkeypatch):
    captured, live = {}, []
    original_prepare, original_plan = method.Activation.prepare, method.Activation.plan

    def prepare(self, ctx, pairs):
        result = original_prepare(self, ctx, pairs)
        acts = self.acts
        captured["inputs"], captured["outputs"] = set(acts.inputs), set(acts.outputs)
        return result

    def plan(self, ctx, pair):
        result = original_plan(self, ctx, pair)
        acts = self.acts
        live.append(len(acts.inputs) + len(acts.outputs))
        return result

    monkeypatch.setattr(method.Activation, "prepare", prepare)
    monkeypatch.setattr(method.Activation, "plan", plan)
    run_transfer(tiny_models["llama"], adapters["llama"], tiny_models["qwen2"], tmp_path / "out",
                 method="activation", svd_rank=16, options=_options(probe_file))
    inputs = {path.rsplit(".", 1)[-1] for _, path in captured["inputs"]}
    outputs = {path.rsplit(".", 1)[-1] for _, path in captured["outputs"]}
    # q/k/v share one input (held by k_proj, first by name) and gate/up another (gate_proj); down_proj's input
    # stands for the MLP intermediate, so gate/up outputs are never captured.
    assert inputs == {"k_proj", "o_proj", "gate_proj", "down_proj"}
    assert outputs == {"q_proj", "k_proj", "v_proj", "o_proj", "down_proj"}
    assert live[-1] < live[0] / 2  # by the last layer most of the probe's activations are gone


def test_a_probe_too_large_for_memory_is_refused_before_it_runs(tiny_models, adapters, probe_file, tmp_path,
                                                              monkeypatch):
    monkeypatch.setattr("paw.resources.available_ram_bytes", lambda: 1000)
    monkeypatch.setattr(method, "paired_activations", lambda *a, **k: pytest.fail("the probe ran"))
    with pytest.raises(PawError, match=r"the activation probe \(512 positions .* needs about .* GiB more memory, "
                                       r".* available — lower transfer.activation.max_positions \(now 512\)"):
        run_transfer(tiny_models["llama"], adapters["llama"], tiny_models["qwen2"], tmp_path / "out",
                     method="activation", svd_rank=16, options=_options(probe_file, max_positions=512))
    assert not (tmp_path / "out").exists()


def test_probe_estimate_counts_every_wanted_width_on_disk_and_one_layer_or_one_base_in_memory():
    """Disk: 4 bytes a position per captured width. Memory: the larger of one base's weights and the largest
    layer's activations read back with its float64 fits (3 × 4 bytes a position per width)."""
    import torch

    class Module:
        in_features, out_features = 10, 3

    class Structure:
        def __init__(self, parameters):
            self._parameters_ = parameters

        def get_submodule(self, path):
            return Module()

        def parameters(self):
            return iter(self._parameters_)

    class Base:
        def __init__(self, numel, dtype):
            self.structure, self.dtype = Structure([torch.empty(numel, device="meta")]), dtype

    class Ctx:
        def __init__(self, numel, dtype="float32"):
            self.bases = {"source": Base(numel, dtype), "target": Base(1, dtype)}

        def base(self, side):
            return self.bases[side]

    wanted = {("inputs", "source", "model.layers.0.self_attn.q_proj"),
              ("outputs", "source", "model.layers.0.self_attn.q_proj"),
              ("inputs", "target", "model.layers.1.mlp.down_proj")}
    assert method.probe_bytes(Ctx(10), wanted, positions=100) == (3 * 4 * 100 * 13, 4 * 100 * 23)
    assert method.probe_bytes(Ctx(10**6), wanted, positions=100) == (4 * 10**6, 4 * 100 * 23)
    assert method.probe_bytes(Ctx(10**6, "bfloat16"), wanted, positions=100)[0] == 2 * 10**6
