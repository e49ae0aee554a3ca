"""Load a Hugging Face causal LM directory and its tokenizer, safely and quietly.

Safety: weights only from safetensors (a pickle-only directory is refused: unpickling runs code), and
`trust_remote_code` only when params turn it on. A base loaded once is kept for the rest of the process.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from paw.errors import PawError
from paw.io import read_json
from paw.models.quiet import quiet_hf

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "model.pt", "model.ckpt", "tf_model.h5")
# Architectures whose attention only runs correctly in eager mode (Gemma-2's soft-capping raises under sdpa).
EAGER_ATTENTION = {"gemma2", "gemma3", "gemma3_text"}

_BASE_CACHE: dict[tuple[str, str], Any] = {}


def resolve_model_dir(name_or_path: str | Path, models_dir: str | Path | None = None) -> Path:
    """A model named by path, or by name under models_dir; errors say which path was looked up."""
    candidate = Path(name_or_path)
    if not candidate.is_absolute() and models_dir is not None and not candidate.exists():
        candidate = Path(models_dir) / candidate
    if not candidate.is_dir():
        hint = (
            f" (looked up under models_dir = {models_dir}; set envs.<env>.models_dir in params.yaml "
            "or put the model there)"
            if models_dir is not None
            else ""
        )
        raise PawError(f"{candidate}: model directory not found{hint}")
    if not (candidate / "config.json").is_file():
        raise PawError(f"{candidate}: not a Hugging Face model directory — config.json is missing")
    return candidate


def check_safetensors_weights(model_dir: Path) -> None:
    """Refuse directories whose weights exist only in pickle formats."""
    if any(model_dir.glob("*.safetensors")):
        return
    pickled = [name for name in PICKLE_WEIGHTS if (model_dir / name).exists()]
    if pickled:
        raise PawError(
            f"{model_dir}: weights are only in {pickled[0]} (a pickle format, which can run code when loaded) — "
            "expected *.safetensors; convert them with a trusted tool first"
        )
    raise PawError(f"{model_dir}: no weights found — expected model.safetensors (or sharded *.safetensors)")


def base_identity(model_dir: Path) -> str:
    """A cheap fingerprint of a base's weights without reading them: config.json plus each safetensors file's
    size and header (tensor names, shapes, offsets). A retrained base of the same shape usually differs in
    file headers only through metadata, so the weights' first and last bytes are folded in as well."""
    digest = hashlib.sha256((model_dir / "config.json").read_bytes())
    for weights in sorted(model_dir.glob("*.safetensors")):
        size = weights.stat().st_size
        with weights.open("rb") as handle:
            header_len = int.from_bytes(handle.read(8), "little")
            digest.update(size.to_bytes(8, "little") + handle.read(min(header_len, 1 << 24)))
            handle.seek(max(8 + header_len, size - (1 << 20)))
            digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:16]


def torch_dtype(name: str) -> "torch.dtype | str":
    import torch

    table = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16, "auto": "auto"}
    if name not in table:
        raise PawError(f"dtype = {name!r} — expected one of {', '.join(table)}")
    return table[name]


def load_tokenizer(model_dir: str | Path, trust_remote_code: bool = False) -> "PreTrainedTokenizerBase":
    quiet_hf()
    from transformers import AutoTokenizer

    model_dir = Path(model_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    except (OSError, ValueError, TypeError) as exc:
        raise PawError(f"{model_dir}: tokenizer could not be loaded — expected tokenizer files ({exc})") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(
    model_dir: str | Path, dtype: str = "float32", trust_remote_code: bool = False, cache: bool = False
) -> "PreTrainedModel":
    """Load a causal LM in eval mode. With cache=True the same object is returned for the same dir and dtype:
    callers that change the model (training, merging adapters in place) must pass cache=False."""
    model_dir = resolve_model_dir(model_dir)
    key = (str(model_dir.resolve()), dtype)
    if cache and key in _BASE_CACHE:
        return _BASE_CACHE[key]
    check_safetensors_weights(model_dir)
    config = read_json(model_dir / "config.json")
    quiet_hf()
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": torch_dtype(dtype), "use_safetensors": True,
                              **architecture_kwargs(config.get("model_type"), trust_remote_code)}
    try:
        model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    except ValueError as exc:
        if "trust_remote_code" in str(exc):
            raise needs_own_code(model_dir) from None
        raise PawError(f"{model_dir}: model could not be loaded ({exc})") from None
    except (OSError, RuntimeError) as exc:
        raise PawError(f"{model_dir}: model weights could not be loaded ({str(exc).splitlines()[0]})") from None
    model.eval()
    if cache:
        _BASE_CACHE[key] = model
    return model


def architecture_kwargs(model_type: str | None, trust_remote_code: bool) -> dict[str, Any]:
    """What building any model of this type needs, loaded or on the meta device (paw.transfer.bases)."""
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if model_type in EAGER_ATTENTION:
        kwargs["attn_implementation"] = "eager"
    return kwargs


def needs_own_code(model_dir: Path) -> PawError:
    return PawError(f"{model_dir}: this model needs its own code — set models.trust_remote_code: true in params.yaml "
                    "only if you trust it")


@contextmanager
def open_safetensors(path: Path) -> Iterator[Any]:
    """safe_open, with a damaged file named in one line instead of a library traceback."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            yield handle
    except (SafetensorError, OSError, ValueError) as exc:
        raise PawError(f"{path}: not a readable safetensors file — corrupt or truncated ({exc})") from None
