"""The gated MLPs work in place while scoring: bit-identical outputs on every architecture, an MLP that computes
something else is left alone, and the model is left as it was."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("name", ["tiny_llama", "tiny_qwen2", "tiny_gemma2"])
def test_in_place_mlps_give_the_same_logits_bit_for_bit(name, request):
    import torch

    from paw.evaluation.gated_mlp import gated_mlps_in_place
    from paw.models import load_model

    model = load_model(request.getfixturevalue(name))
    ids = torch.randint(0, model.config.vocab_size, (2, 9), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        want = model(input_ids=ids).logits
        with gated_mlps_in_place(model.model):
            assert all("forward" in vars(layer.mlp) for layer in model.model.layers)
            got = model(input_ids=ids).logits
    assert torch.equal(got, want)
    assert not any("forward" in vars(layer.mlp) for layer in model.model.layers)  # the class's forward again


def test_an_mlp_with_the_names_but_another_formula_is_left_alone(tiny_llama):
    import torch

    from paw.evaluation.gated_mlp import gated_mlps_in_place, runs_alike
    from paw.models import load_model

    model = load_model(tiny_llama)
    mlp = model.model.layers[0].mlp

    class Ungated(type(mlp)):  # same attributes, no gate product: down(act(gate(x)) + up(x))
        def forward(self, x):
            return self.down_proj(self.act_fn(self.gate_proj(x)) + self.up_proj(x))

    for layer in model.model.layers:
        layer.mlp.__class__ = Ungated
    assert not runs_alike(mlp)
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.inference_mode():
        want = model(input_ids=ids).logits
        with gated_mlps_in_place(model.model):
            assert not any("forward" in vars(layer.mlp) for layer in model.model.layers)
            got = model(input_ids=ids).logits
    assert torch.equal(got, want)


def test_an_error_inside_restores_the_forward(tiny_llama):
    from paw.evaluation.gated_mlp import gated_mlps_in_place
    from paw.models import load_model

    model = load_model(tiny_llama)
    with pytest.raises(RuntimeError, match="boom"), gated_mlps_in_place(model.model):
        raise RuntimeError("boom")
    assert not any("forward" in vars(layer.mlp) for layer in model.model.layers)
