"""Adapter dirs are untrusted input: validated before use, must fit the base, written in the standard PEFT form."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from paw.errors import PawError
from paw.models import attach_adapter, load_model, normalize_adapter_config, read_adapter, write_adapter


def _random_lora(model, r=4, modules=("q_proj", "v_proj"), seed=0):
    gen = torch.Generator().manual_seed(seed)
    weights = {}
    for name, module in model.named_modules():
        if name.rsplit(".", 1)[-1] in modules:
            a = torch.randn(r, module.in_features, generator=gen) * 0.1
            b = torch.randn(module.out_features, r, generator=gen) * 0.1
            weights[name] = (a, b)
    return weights


@pytest.fixture()
def llama_adapter(tiny_llama, tmp_path):
    model = load_model(tiny_llama)
    weights = _random_lora(model)
    out = tmp_path / "adapter"
    write_adapter(out, weights, r=4, alpha=8, base_model_name="tiny-llama")
    return out, weights


def test_written_adapter_loads_with_peft_and_applies_the_update(tiny_llama, llama_adapter):
    out, weights = llama_adapter
    info = read_adapter(out)
    assert (info.r, info.alpha, info.target_modules, info.base_model) == (4, 8.0, ("q_proj", "v_proj"), "tiny-llama")
    peft_model = attach_adapter(load_model(tiny_llama), out)
    merged = peft_model.merge_and_unload()
    base = load_model(tiny_llama)
    name = next(iter(weights))
    a, b = weights[name]
    delta = merged.get_submodule(name).weight - base.get_submodule(name).weight
    torch.testing.assert_close(delta, (8 / 4) * b @ a, atol=1e-5, rtol=1e-4)


def test_written_config_is_peft_s_own_with_sorted_targets(llama_adapter):
    from peft import LoraConfig, __version__ as peft_version

    out, _ = llama_adapter
    text = (out / "adapter_config.json").read_text()
    config = json.loads(text)
    assert config["target_modules"] == ["q_proj", "v_proj"] and config["base_model_name_or_path"] == "tiny-llama"
    assert text == json.dumps(config, indent=2, sort_keys=True) + "\n"  # the same bytes on every run
    loaded = LoraConfig.from_pretrained(str(out))
    assert (loaded.r, loaded.lora_alpha, loaded.lora_dropout, loaded.inference_mode) == (4, 8, 0.0, True)
    assert config["peft_version"] == peft_version


def test_adapter_for_another_base_is_refused(tiny_qwen2, llama_adapter):
    out, _ = llama_adapter
    with pytest.raises(PawError, match="the adapter was made for another base"):
        attach_adapter(load_model(tiny_qwen2), out)


def test_truncated_weights_are_refused(llama_adapter):
    out, _ = llama_adapter
    weights = out / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(PawError, match="corrupt or truncated"):
        read_adapter(out)


def test_garbage_weights_are_refused(llama_adapter):
    out, _ = llama_adapter
    (out / "adapter_model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(PawError, match="corrupt or truncated"):
        read_adapter(out)


def test_pickle_only_adapter_is_refused(llama_adapter):
    out, _ = llama_adapter
    (out / "adapter_model.safetensors").rename(out / "adapter_model.bin")
    with pytest.raises(PawError, match="adapter_model.bin, a pickle format"):
        read_adapter(out)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"peft_type": "IA3"}, "peft_type = 'IA3' — expected 'LORA'"),
        ({"r": 0}, "r = 0 — expected a positive number"),
        ({"lora_alpha": "big"}, "lora_alpha = 'big' — expected a positive number"),
    ],
)
def test_bad_adapter_config(llama_adapter, change, message):
    out, _ = llama_adapter
    config = json.loads((out / "adapter_config.json").read_text()) | change
    (out / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(PawError, match=message):
        read_adapter(out)


def test_missing_adapter_pieces(llama_adapter, tmp_path):
    with pytest.raises(PawError, match="adapter directory not found"):
        read_adapter(tmp_path / "none")
    out, _ = llama_adapter
    (out / "adapter_config.json").unlink()
    with pytest.raises(PawError, match="adapter_config.json is missing"):
        read_adapter(out)


def test_normalized_config_is_stable(llama_adapter, tmp_path):
    out, _ = llama_adapter
    config = json.loads((out / "adapter_config.json").read_text())
    config["target_modules"] = ["v_proj", "q_proj"]
    config["base_model_name_or_path"] = "/home/someone/models/tiny-llama"
    (out / "adapter_config.json").write_text(json.dumps(config))
    normalize_adapter_config(out, "tiny-llama")
    first = (out / "adapter_config.json").read_bytes()
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    normalize_adapter_config(copy, "tiny-llama")
    assert (copy / "adapter_config.json").read_bytes() == first
    assert json.loads(first)["target_modules"] == ["q_proj", "v_proj"]
    assert json.loads(first)["base_model_name_or_path"] == "tiny-llama"


def test_partial_adapter_named_by_path_wraps_only_its_modules(tiny_llama, tmp_path, recwarn):
    from peft.tuners.lora import LoraLayer

    model = load_model(tiny_llama)
    weights = {name: w for name, w in _random_lora(model).items() if ".layers.0." in name}
    write_adapter(tmp_path / "by_path", weights, r=4, alpha=8, base_model_name="tiny-llama", full_paths=True)
    peft_model = attach_adapter(load_model(tiny_llama), tmp_path / "by_path")
    wrapped = {name.removeprefix("base_model.model.") for name, m in peft_model.named_modules()
               if isinstance(m, LoraLayer)}
    assert wrapped == set(weights)
    assert not [w for w in recwarn if "missing" in str(w.message).lower()]
