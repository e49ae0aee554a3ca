"""Fixtures for transfer tests: random source adapters, probe text, logits of a base with an adapter, and a
synthetic target that is the source with its hidden basis rotated and zero-output copies of its layers inserted."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import torch

KINDS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def make_adapter(model_dir: Path, out_dir: Path, r: int = 4, alpha: float = 8.0, seed: int = 0,
                 kinds=KINDS, strength: float = 1.0, layers=None) -> Path:
    """A random LoRA for the base at model_dir whose update is `strength` × each weight's norm."""
    from paw.transfer.layout import parse_path

    import torch

    from paw.models import load_model, write_adapter

    model = load_model(model_dir, cache=True)
    generator = torch.Generator().manual_seed(seed)
    weights = {}
    for path, module in model.named_modules():
        parsed = parse_path(path)
        if parsed and parsed[1] in kinds and hasattr(module, "in_features") and (layers is None or parsed[0] in layers):
            a = torch.randn(r, module.in_features, generator=generator)
            b = torch.randn(module.out_features, r, generator=generator)
            size = float(module.weight.detach().norm()) / float((b @ a).norm()) * strength * r / alpha
            weights[path] = (a * size**0.5, b * size**0.5)
    write_adapter(out_dir, weights, r, alpha, Path(model_dir).name, full_paths=layers is not None)
    return out_dir


def adapted_logits(model_dir: Path, adapter_dir: Path | None, input_ids) -> "torch.Tensor":
    import torch

    from paw.models import attach_adapter, load_model

    model = load_model(model_dir, cache=False)
    if adapter_dir is not None:
        model = attach_adapter(model, adapter_dir)
    with torch.no_grad():
        return model(input_ids=input_ids).logits.float()


def write_probe(path: Path, lines: int = 60) -> Path:
    from tests.tiny_models import corpus

    path.write_text("\n".join(corpus(seed=11, n_lines=lines)) + "\n")
    return path


def rotated_deepened(source_dir: Path, out_dir: Path, rotation: "torch.Tensor") -> Path:
    """The source with residual basis h ↦ Q·h (norm gains permuted alike: Q must be a signed permutation unless the
    gains are uniform) and after each layer a copy of it whose o_proj and down_proj are zero (an identity block)."""
    import shutil

    import torch

    from paw.models import load_model
    from paw.transfer.layout import READS_RESIDUAL, WRITES_RESIDUAL

    model = load_model(source_dir, cache=False)
    config = model.config
    n = config.num_hidden_layers
    q = rotation.float()
    perm = q.abs().argmax(1)  # for signed permutations: row i takes input coordinate perm[i]
    state = {}
    for key, value in model.state_dict().items():
        value = value.clone()
        name = key.rsplit(".", 2)[-2] if key.endswith(".weight") else ""
        if key.endswith("embed_tokens.weight") or key.endswith("lm_head.weight"):
            value = value @ q.T
        elif name in READS_RESIDUAL:
            value = value @ q.T
        elif name in WRITES_RESIDUAL:
            value = q @ value
        elif value.dim() == 1 and value.shape[0] == config.hidden_size and "norm" in key:
            value = value[perm]
        state[key] = value
    deep = {}
    for key, value in state.items():
        if ".layers." not in key:
            deep[key] = value
            continue
        head, rest = key.split(".layers.", 1)
        layer, tail = rest.split(".", 1)
        deep[f"{head}.layers.{2 * int(layer)}.{tail}"] = value
        copy = torch.zeros_like(value) if tail.split(".")[-2] in WRITES_RESIDUAL else value.clone()
        deep[f"{head}.layers.{2 * int(layer) + 1}.{tail}"] = copy
    config.num_hidden_layers = 2 * n
    if getattr(config, "layer_types", None):
        config.layer_types = [t for t in config.layer_types for _ in (0, 1)]
    from transformers import AutoModelForCausalLM

    fresh = AutoModelForCausalLM.from_config(config)
    fresh.load_state_dict(deep, strict=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    fresh.save_pretrained(out_dir, safe_serialization=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (source_dir / name).exists():
            shutil.copy(source_dir / name, out_dir / name)
    return out_dir


@pytest.fixture(scope="session")
def probe_file(tmp_path_factory) -> Path:
    return write_probe(tmp_path_factory.mktemp("probe") / "probe.txt")


@pytest.fixture(scope="session")
def tiny_qwen3(tiny_llama, tmp_path_factory) -> Path:
    """A tiny Qwen3 (tiny Llama's tokenizer): per-head q/k norms and q wider than the residual stream (4 heads × 16
    from 32), as in Gemma 3 270M; its norm gains are uniform, so any orthogonal rotation keeps its function."""
    import shutil

    import torch
    from transformers import AutoModelForCausalLM, Qwen3Config

    from paw.models import load_tokenizer

    out_dir = tmp_path_factory.mktemp("qwen3") / "qwen3-tiny"
    out_dir.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (tiny_llama / name).exists():
            shutil.copy(tiny_llama / name, out_dir / name)
    tokenizer = load_tokenizer(out_dir)
    config = Qwen3Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=256,
                         tie_word_embeddings=False, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(3)
    model = AutoModelForCausalLM.from_config(config)
    with torch.no_grad():  # the same larger-than-default scale as the other tiny models
        for param in model.parameters():
            if param.dim() == 2:
                param.normal_(0.0, 1.2 / param.shape[1] ** 0.5)
    model.save_pretrained(out_dir, safe_serialization=True)
    return out_dir


@pytest.fixture(scope="session")
def llama_sibling(tmp_path_factory) -> Path:
    """Same shapes and tokenizer as tiny_llama, independently initialised weights."""
    from tests.tiny_models import build_model

    return build_model("llama", tmp_path_factory.mktemp("sibling") / "llama-sibling", seed=5)


@pytest.fixture(scope="session")
def adapters(tiny_models, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adapters")
    return {arch: make_adapter(path, root / arch, seed=i + 10) for i, (arch, path) in enumerate(tiny_models.items())}
