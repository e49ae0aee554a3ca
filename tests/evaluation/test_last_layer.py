"""The last layer's MLP runs only where the output head reads: the scores do not change, and the model is left as
it was."""

from __future__ import annotations

import pytest

from paw.evaluation.engine import load_eval_set, score_eval_set


@pytest.mark.parametrize("name", ["tiny_llama", "tiny_qwen2", "tiny_gemma2"])
def test_scores_equal_the_full_last_layer(name, request, fixture_data, monkeypatch):
    import paw.evaluation.last_layer
    import paw.evaluation.scorer
    from paw.evaluation.last_layer import last_dense_mlp
    from paw.models import load_model, load_tokenizer

    model_dir = request.getfixturevalue(name)
    model, tokenizer = load_model(model_dir), load_tokenizer(model_dir)
    layer, attribute = last_dense_mlp(model.model)
    assert layer is model.model.layers[-1] and attribute == "mlp"
    eval_set = load_eval_set("arc-easy", data_path=fixture_data["arc-easy"])
    calls = []
    call = paw.evaluation.last_layer.RowsOnly.__call__
    monkeypatch.setattr(paw.evaluation.last_layer.RowsOnly, "__call__",
                        lambda self, hidden: calls.append(len(self.rows)) or call(self, hidden))
    short = score_eval_set(model, tokenizer, eval_set, progress=False)
    assert calls and all(0 < n for n in calls)  # the shortcut ran, on the head's rows
    # Afterwards the layer holds its own MLP again, under the same registered name.
    assert "mlp" not in vars(layer) and type(layer.mlp).__name__.endswith("MLP")
    monkeypatch.setattr(paw.evaluation.scorer, "last_dense_mlp", lambda backbone: None)
    full = score_eval_set(model, tokenizer, eval_set, progress=False)
    for a, b in zip(short, full, strict=True):
        assert a == pytest.approx(b, abs=1e-5)


def test_rows_outside_the_head_get_zeros_and_an_error_restores_the_mlp(tiny_llama):
    import torch

    from paw.evaluation.last_layer import last_dense_mlp, mlp_on_rows
    from paw.models import load_model

    model = load_model(tiny_llama)
    site = last_dense_mlp(model.model)
    layer = site[0]
    mlp = layer.mlp
    hidden = torch.randn(2, 3, model.config.hidden_size)
    with torch.no_grad(), mlp_on_rows(site, torch.tensor([1, 4])):
        out = layer.mlp(hidden)
    with torch.no_grad():
        full = mlp(hidden)
    torch.testing.assert_close(out.flatten(0, 1)[[1, 4]], full.flatten(0, 1)[[1, 4]])
    assert not out.flatten(0, 1)[[0, 2, 3, 5]].any()
    with pytest.raises(RuntimeError, match="boom"), mlp_on_rows(site, torch.tensor([0])):
        raise RuntimeError("boom")
    assert layer.mlp is mlp


def test_a_mixture_of_experts_or_a_short_layer_list_is_left_alone(tiny_llama):
    from paw.evaluation.last_layer import last_dense_mlp
    from paw.models import load_model

    model = load_model(tiny_llama)
    del model.model.layers[-1].mlp.gate_proj  # no longer the gated MLP it knows
    assert last_dense_mlp(model.model) is None
    model = load_model(tiny_llama)
    model.config.num_hidden_layers += 1  # the decoder would not end at layers[-1]
    assert last_dense_mlp(model.model) is None
