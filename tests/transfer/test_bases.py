"""A transfer's view of a base: structure without weights, single weights read from the checkpoint exactly as the
loaded model holds them, and whole models only inside `loaded()`, one base at a time."""

from __future__ import annotations

import json
import shutil
import weakref
from pathlib import Path

import pytest
import torch

from paw.errors import PawError
from paw.models import load_model
from paw.transfer.api import run_transfer
from paw.transfer.bases import Base


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gemma2"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_weights_read_from_the_checkpoint_equal_the_loaded_models(tiny_models, arch, dtype):
    base, model = Base(tiny_models[arch], dtype), load_model(tiny_models[arch], dtype)
    assert all(p.device.type == "meta" for p in base.structure.parameters())  # no storage held
    for path, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and ".layers." in path:
            assert torch.equal(base.weight(path), module.weight.float()), path
    assert torch.equal(base.input_embeddings(), model.get_input_embeddings().weight.float())
    assert base.loads == 0


def test_sharded_checkpoints_are_read_through_their_index(tiny_llama, tmp_path):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "sharded"
    shutil.copytree(tiny_llama, folder)
    tensors = load_file(str(folder / "model.safetensors"))
    (folder / "model.safetensors").unlink()
    names = sorted(tensors)
    shards = {"model-00001-of-00002.safetensors": names[::2], "model-00002-of-00002.safetensors": names[1::2]}
    for file, keys in shards.items():
        save_file({k: tensors[k] for k in keys}, str(folder / file), metadata={"format": "pt"})
    index = {"metadata": {}, "weight_map": {k: file for file, keys in shards.items() for k in keys}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    base = Base(folder)
    for key in names:
        if key.endswith("proj.weight"):
            assert torch.equal(base.weight(key.removesuffix(".weight")), tensors[key].float())


def test_a_weight_the_checkpoint_names_otherwise_is_read_from_the_loaded_model(tiny_llama):
    base = Base(tiny_llama)
    base._files = {}  # as if every tensor were stored under another name
    path = "model.layers.0.mlp.down_proj"
    assert torch.equal(base.weight(path), load_model(tiny_llama).get_submodule(path).weight)


def test_a_damaged_checkpoint_is_named_in_one_error(tiny_llama, tmp_path):
    folder = tmp_path / "damaged"
    shutil.copytree(tiny_llama, folder)
    (folder / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(PawError, match=r"damaged/model.safetensors: not a readable safetensors file — corrupt"):
        Base(folder).weight("model.layers.0.mlp.down_proj")


def test_activation_holds_one_base_at_a_time_and_spills_its_probe_to_disk(tiny_models, adapters, probe_file,
                                                                          tmp_path, monkeypatch):
    import paw.transfer.bases
    from paw.transfer.methods import activation as method

    live, most_alive, spilled = weakref.WeakSet(), [0], {}
    original_load, original_prepare = paw.transfer.bases.load_model, method.Activation.prepare

    def load(*args, **kwargs):
        model = original_load(*args, **kwargs)
        live.add(model)
        most_alive[0] = max(most_alive[0], len(live))
        return model

    def prepare(self, ctx, pairs):
        result = original_prepare(self, ctx, pairs)
        acts = self.acts
        spilled["folder"] = acts.inputs._folder.name
        spilled["files"] = len(list(Path(spilled["folder"]).iterdir()))
        spilled["loads"] = ctx.source.loads, ctx.target.loads
        return result

    monkeypatch.setattr(paw.transfer.bases, "load_model", load)
    monkeypatch.setattr(method.Activation, "prepare", prepare)
    run_transfer(tiny_models["llama"], adapters["llama"], tiny_models["qwen2"], tmp_path / "out",
                 method="activation", svd_rank=16, options={"activation": {"probe_file": str(probe_file)}})
    assert most_alive[0] == 1  # the source was freed before the target was loaded
    assert spilled["loads"] == (1, 1)
    assert spilled["files"] > 0  # the activations wait on disk for their fits
    assert not Path(spilled["folder"]).exists()  # and are gone when the carry ends
