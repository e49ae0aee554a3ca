"""Loading HF causal LM dirs: the three architectures, clear errors, safetensors only, remote code off."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest
import torch

from paw.errors import PawError
from paw.models import load_model, load_tokenizer, resolve_model_dir


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gemma2"])
def test_loads_each_architecture(tiny_models, arch):
    model = load_model(tiny_models[arch])
    tokenizer = load_tokenizer(tiny_models[arch])
    assert not model.training
    ids = tokenizer("Which river is the longest?", return_tensors="pt").input_ids
    with torch.no_grad():
        logits = model(ids).logits
    assert logits.shape == (1, ids.shape[1], model.config.vocab_size)
    assert torch.isfinite(logits).all()


def test_gemma2_runs_with_eager_attention(tiny_gemma2):
    assert load_model(tiny_gemma2).config._attn_implementation == "eager"


def test_bos_follows_the_tokenizer_default(tiny_llama, tiny_qwen2):
    assert load_tokenizer(tiny_llama)("red").input_ids[0] == load_tokenizer(tiny_llama).bos_token_id
    qwen = load_tokenizer(tiny_qwen2)
    assert qwen.bos_token_id not in qwen("red").input_ids


def test_dtype_from_params(tiny_llama):
    assert load_model(tiny_llama, dtype="bfloat16").dtype == torch.bfloat16


def test_cache_returns_one_object_per_dir_and_dtype(tiny_llama):
    first = load_model(tiny_llama, cache=True)
    assert load_model(tiny_llama, cache=True) is first
    assert load_model(tiny_llama, cache=False) is not first


def test_model_by_name_under_models_dir(tiny_llama):
    assert resolve_model_dir(tiny_llama.name, models_dir=tiny_llama.parent) == tiny_llama


def test_missing_model_names_the_path_and_models_dir(tmp_path):
    with pytest.raises(PawError, match=rf"{tmp_path}/nope: model directory not found .*models_dir"):
        resolve_model_dir("nope", models_dir=tmp_path)


def test_dir_without_config(tmp_path):
    with pytest.raises(PawError, match="config.json is missing"):
        load_model(tmp_path)


def test_dir_without_weights(tiny_llama, tmp_path):
    target = tmp_path / "noweights"
    shutil.copytree(tiny_llama, target)
    (target / "model.safetensors").unlink()
    with pytest.raises(PawError, match="no weights found — expected model.safetensors"):
        load_model(target)


class _WritesFileWhenUnpickled:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran"))


def test_pickle_only_weights_are_refused_and_never_run(tiny_llama, tmp_path):
    target = tmp_path / "pickled"
    shutil.copytree(tiny_llama, target)
    (target / "model.safetensors").unlink()
    marker = tmp_path / "executed.txt"
    (target / "pytorch_model.bin").write_bytes(pickle.dumps(_WritesFileWhenUnpickled(marker)))
    with pytest.raises(PawError, match="pytorch_model.bin .*pickle.* expected \\*.safetensors"):
        load_model(target)
    assert not marker.exists()


def test_remote_code_is_refused_unless_enabled(tiny_llama, tmp_path):
    target = tmp_path / "remote"
    shutil.copytree(tiny_llama, target)
    config = (target / "config.json").read_text()
    marker = tmp_path / "remote_ran.txt"
    (target / "custom_model.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    config = config.replace('"model_type": "llama"', '"model_type": "custom_thing", "auto_map": '
                            '{"AutoModelForCausalLM": "custom_model.Custom", "AutoConfig": "custom_model.Cfg"}')
    (target / "config.json").write_text(config)
    with pytest.raises(PawError):
        load_model(target)
    assert not marker.exists()


def test_missing_tokenizer(tiny_llama, tmp_path):
    target = tmp_path / "notok"
    shutil.copytree(tiny_llama, target)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (target / name).unlink(missing_ok=True)
    with pytest.raises(PawError, match="tokenizer could not be loaded"):
        load_tokenizer(target)
