"""Base models and LoRA adapters: loading (safetensors only), validation, writing, GGUF import.

Importing this package is cheap; torch/transformers load on first use.
"""

from paw.models.adapters import (
    AdapterInfo,
    attach_adapter,
    check_adapter_fits,
    normalize_adapter_config,
    read_adapter,
    write_adapter,
)
from paw.models.loading import (
    base_identity,
    load_model,
    load_tokenizer,
    resolve_model_dir,
    torch_dtype,
)
from paw.models.quiet import quiet_hf

__all__ = [
    "AdapterInfo",
    "attach_adapter",
    "base_identity",
    "check_adapter_fits",
    "load_model",
    "load_tokenizer",
    "normalize_adapter_config",
    "quiet_hf",
    "read_adapter",
    "resolve_model_dir",
    "torch_dtype",
    "write_adapter",
]
