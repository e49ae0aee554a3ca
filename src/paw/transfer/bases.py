"""One base model as a transfer sees it, without holding its weights.

A transfer reads a base three ways: its structure (module names and shapes), single weights (a module's matrix for
its norm and SVD, the input embeddings), and — for methods that read activations — whole forward passes. Holding
both bases in memory for all of it was most of a real transfer's peak: Qwen2.5 0.5B + 1.5B in float32 are 8.2 GB
before anything is computed. So a `Base` keeps:

- `structure`: the model built on PyTorch's meta device — every module and shape, no storage;
- `weight(path)`: one tensor read from the safetensors files when asked, in the dtype the loaded model would have
  (`models.dtype`), then float32 — the same numbers as `model.get_submodule(path).weight.float()`;
- `loaded()`: the whole model for forward passes, freed when the block ends, so one base is in memory at a time.

A checkpoint whose tensor names do not follow the model's module names (a key for the module is not found) is read
through the loaded model instead, once, and kept: correct, at the old cost.
"""

from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from paw.errors import PawError
from paw.models import load_model
from paw.models.loading import (
    architecture_kwargs,
    check_safetensors_weights,
    needs_own_code,
    open_safetensors,
    torch_dtype,
)
from paw.models.quiet import quiet_hf

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

INDEX = "model.safetensors.index.json"


@dataclass
class Base:
    model_dir: Path
    dtype: str = "float32"
    trust_remote_code: bool = False
    _structure: Any = None
    _files: dict[str, str] | None = None  # tensor name -> safetensors file
    _fallback: Any = None  # the loaded model, when a weight is not found by its module name
    loads: int = field(default=0)  # whole-model loads so far (tests check one base at a time)

    @property
    def structure(self) -> "PreTrainedModel":
        """The model's modules on the meta device: names, classes and shapes, no weights."""
        if self._structure is None:
            self._structure = build_structure(self.model_dir, self.trust_remote_code)
        return self._structure

    @property
    def name(self) -> str:
        return self.model_dir.name

    def weight(self, path: str) -> "torch.Tensor":
        """The weight of module `path` as float32, as the loaded model in `dtype` holds it."""
        return self.tensor(f"{path}.weight")

    def input_embeddings(self) -> "torch.Tensor":
        embeddings = self.structure.get_input_embeddings()
        path = next(name for name, module in self.structure.named_modules() if module is embeddings)
        return self.weight(path)

    def tensor(self, key: str) -> "torch.Tensor":
        import torch

        where = self.files().get(key)
        if where is None:
            return self._from_loaded_model(key)
        with open_safetensors(self.model_dir / where) as handle:
            tensor = handle.get_tensor(key)
        wanted = torch_dtype(self.dtype)
        if wanted != "auto":
            tensor = tensor.to(wanted)  # the rounding the loaded model would apply
        return tensor.to(torch.float32)

    def files(self) -> dict[str, str]:
        if self._files is None:
            self._files = tensor_files(self.model_dir)
        return self._files

    @contextmanager
    def loaded(self) -> Iterator["PreTrainedModel"]:
        """The whole model (eval mode) for the duration of the block; freed afterwards (unless a weight lookup
        already needed it) once the caller drops its own reference too — `with` leaves the name bound."""
        if self._fallback is not None:
            yield self._fallback
            return
        self.loads += 1
        model = load_model(self.model_dir, self.dtype, self.trust_remote_code, cache=False)
        try:
            yield model
        finally:
            del model
            gc.collect()

    def _from_loaded_model(self, key: str) -> "torch.Tensor":
        import torch

        if self._fallback is None:
            self._fallback = load_model(self.model_dir, self.dtype, self.trust_remote_code, cache=False)
        module_path, _, name = key.rpartition(".")
        try:
            return getattr(self._fallback.get_submodule(module_path), name).detach().to(torch.float32)
        except AttributeError:
            raise PawError(f"{self.model_dir}: the model has no tensor {key}") from None


def tensor_files(model_dir: Path) -> dict[str, str]:
    """Tensor name -> the safetensors file holding it (sharded checkpoints through their index)."""
    index = model_dir / INDEX
    if index.is_file():
        return dict(json.loads(index.read_text())["weight_map"])
    files = {}
    for path in sorted(model_dir.glob("*.safetensors")):
        with open_safetensors(path) as handle:
            files.update({key: path.name for key in handle.keys()})
    return files


def build_structure(model_dir: Path, trust_remote_code: bool) -> "PreTrainedModel":
    """The model class instantiated on the meta device from config.json alone."""
    import torch

    check_safetensors_weights(model_dir)
    quiet_hf()
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    except ValueError as exc:
        if "trust_remote_code" in str(exc):
            raise needs_own_code(model_dir) from None
        raise PawError(f"{model_dir}: config.json could not be read ({exc})") from None
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(
            config, **architecture_kwargs(getattr(config, "model_type", None), trust_remote_code)).eval()
