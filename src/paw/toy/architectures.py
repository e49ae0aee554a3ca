"""Configs of the toy bases and a byte-stable way to save them as ordinary Hugging Face model directories.

toy-source / toy-sibling: Llama-style (MHA). toy-grown: Llama-style, twice as wide, GQA, deeper (see grow.py).
toy-independent: Qwen2-style (GQA, q/k/v bias), its own width and depth, its own seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from paw.toy.params import ToyParams
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerFast

MAX_POSITIONS = 256


def _common(tokenizer: "PreTrainedTokenizerFast") -> dict:
    return dict(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        max_position_embeddings=MAX_POSITIONS,
        tie_word_embeddings=False,  # untied: every weight is its own tensor, simpler to grow and to save
        rms_norm_eps=1e-6,
        use_cache=False,
    )


def source_config(toy: ToyParams, tokenizer: "PreTrainedTokenizerFast") -> "PretrainedConfig":
    from transformers import LlamaConfig

    return LlamaConfig(
        hidden_size=toy.hidden_size,
        intermediate_size=2 * toy.hidden_size,
        num_hidden_layers=toy.num_layers,
        num_attention_heads=toy.num_heads,
        num_key_value_heads=toy.num_heads,
        **_common(tokenizer),
    )


def grown_config(toy: ToyParams, tokenizer: "PreTrainedTokenizerFast") -> "PretrainedConfig":
    """Twice the width and query heads (same head_dim), the source's head count as KV heads (GQA), deeper."""
    from transformers import LlamaConfig

    return LlamaConfig(
        hidden_size=2 * toy.hidden_size,
        intermediate_size=4 * toy.hidden_size,
        num_hidden_layers=toy.num_layers + toy.grown_extra_layers,
        num_attention_heads=2 * toy.num_heads,
        num_key_value_heads=toy.num_heads,
        head_dim=toy.hidden_size // toy.num_heads,
        **_common(tokenizer),
    )


def independent_config(toy: ToyParams, tokenizer: "PreTrainedTokenizerFast") -> "PretrainedConfig":
    """Qwen2-style: 3/4 of the source width, one layer less (at least 2), 6 query heads sharing 2 KV heads."""
    from transformers import Qwen2Config

    hidden = max(24, (3 * toy.hidden_size // 4) // 12 * 12)
    return Qwen2Config(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=max(2, toy.num_layers - 1),
        num_attention_heads=6,
        num_key_value_heads=2,
        **_common(tokenizer),
    )


def new_model(config: "PretrainedConfig", seed: int) -> "PreTrainedModel":
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config)


def save_model(model: "PreTrainedModel", tokenizer: "PreTrainedTokenizerFast", out_dir: Path) -> None:
    """config.json, model.safetensors (sorted, contiguous tensors, fixed metadata) and the shared tokenizer.

    Written by hand rather than `save_pretrained` so that the same weights always give the same bytes.
    """
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    model.config.save_pretrained(out_dir)
    state = {name: tensor.detach().contiguous().clone() for name, tensor in sorted(model.state_dict().items())}
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    tokenizer.save_pretrained(out_dir)
