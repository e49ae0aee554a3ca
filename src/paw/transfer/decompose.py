"""Truncated SVDs of a base model's linear modules, computed once per base and cached on disk.

The decomposition depends only on the base weights, `transfer.svd_rank` and `models.dtype`, so changing the transfer
method or threshold reuses it. Small matrices get an exact SVD; large ones a randomized one (Halko et al.,
`torch.svd_lowrank`, seeded). Cache layout: `svd.safetensors` ({path}.U [out×k], .S [k], .V [in×k]) + `meta.json`.
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paw.errors import PawError
from paw.io import atomic_dir, write_json
from paw.models import resolve_model_dir
from paw.models.loading import base_identity
from paw.resources import peak_ram_mb
from paw.transfer.bases import Base
from paw.transfer.layout import model_layout

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

    from paw.transfer.bases import Base

    from paw.config import Params

WEIGHTS = "svd.safetensors"
META = "meta.json"
# Exact SVD below this many entries (e.g. every module of Gemma 3 270M); above it, randomized. Randomized top-k
# subspaces of weights with flat spectra are only approximate, which lowers similarities and blurs the maps built
# from them, so the exact path is used wherever it is affordable.
EXACT_LIMIT = 2048 * 2048


@dataclass
class Factors:
    U: "torch.Tensor"  # out × k, orthonormal columns
    S: "torch.Tensor"  # k
    V: "torch.Tensor"  # in × k, orthonormal columns


def truncated_svd(weight: "torch.Tensor", rank: int, seed: int) -> Factors:
    import torch

    w = weight.detach().to(torch.float32)
    k = min(rank, *w.shape)
    if w.numel() <= EXACT_LIMIT or k * 3 >= min(w.shape):
        u, s, vh = torch.linalg.svd(w, full_matrices=False)
        return Factors(u[:, :k].contiguous(), s[:k].contiguous(), vh[:k].T.contiguous())
    torch.manual_seed(seed)
    u, s, v = torch.svd_lowrank(w, q=min(k + 10, *w.shape), niter=2)
    return Factors(u[:, :k].contiguous(), s[:k].contiguous(), v[:, :k].contiguous())


def svd_seed(seed: int, path: str) -> int:
    """The seed of one module's randomized SVD: by the module path, so cached and on-demand results agree."""
    return seed * 1_000_003 + zlib.crc32(path.encode())


def decompose_base(base: "Base", rank: int, seed: int) -> dict[str, Factors]:
    """Every decoder-layer linear module's truncated SVD, one weight in memory at a time."""
    sites = sorted(model_layout(base.structure).sites.values(), key=lambda s: (s.layer, s.kind))
    return {site.path: truncated_svd(base.weight(site.path), rank, svd_seed(seed, site.path)) for site in sites}


def write_decomposition(out_dir: Path, factors: dict[str, Factors], meta: dict) -> None:
    from safetensors.torch import save_file

    tensors = {}
    for path, f in factors.items():
        tensors[f"{path}.U"], tensors[f"{path}.S"], tensors[f"{path}.V"] = f.U, f.S, f.V
    with atomic_dir(out_dir) as tmp:
        save_file(tensors, str(tmp / WEIGHTS), metadata={"format": "pt"})
        write_json(tmp / META, meta)


def read_decomposition(svd_dir: Path, model_dir: Path, rank: int) -> dict[str, Factors]:
    """Load a cached decomposition, refusing one made for another base or another rank."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    svd_dir = Path(svd_dir)
    meta_path = svd_dir / META
    if not meta_path.is_file() or not (svd_dir / WEIGHTS).is_file():
        raise PawError(f"{svd_dir}: not a decomposition directory — expected {META} and {WEIGHTS} (run decompose)")
    meta = json.loads(meta_path.read_text())
    if meta.get("rank") != rank:
        raise PawError(
            f"{svd_dir}: computed with transfer.svd_rank = {meta.get('rank')}, but transfer.svd_rank = {rank} — "
            "rerun the decompose step"
        )
    if meta.get("fingerprint") != base_identity(model_dir):
        raise PawError(f"{svd_dir}: computed for another base than {model_dir} — rerun the decompose step")
    try:
        tensors = load_file(str(svd_dir / WEIGHTS))
    except (SafetensorError, OSError) as exc:
        raise PawError(f"{svd_dir / WEIGHTS}: not a readable safetensors file ({exc})") from None
    return {
        path: Factors(tensors[f"{path}.U"], tensors[f"{path}.S"], tensors[f"{path}.V"]) for path in meta["modules"]
    }


def decompose(model_dir: str | Path, out_dir: str | Path, svd_rank: int, seed: int = 0, dtype: str = "float32",
              trust_remote_code: bool = False) -> dict:
    """Decompose every linear module inside the decoder layers of the base at `model_dir` into `out_dir`."""
    model_dir = resolve_model_dir(model_dir)
    start = time.perf_counter()
    base = Base(model_dir, dtype, trust_remote_code)
    check_rank(svd_rank, base.structure, model_dir)
    factors = decompose_base(base, svd_rank, seed)
    meta = {
        "model": model_dir.name,
        "fingerprint": base_identity(model_dir),
        "rank": svd_rank,
        "dtype": dtype,
        "modules": {path: [f.U.shape[0], f.V.shape[0], f.S.shape[0]] for path, f in factors.items()},
    }
    # meta.json is part of a cached output: timings stay out of it (they would change its hash on every rerun).
    write_decomposition(Path(out_dir), factors, meta)
    return meta | {"seconds": round(time.perf_counter() - start, 2), "peak_ram_mb": peak_ram_mb()}


def check_rank(rank: int, model: "PreTrainedModel", model_dir: Path) -> None:
    hidden = model_layout(model).hidden_size
    if rank > hidden:
        raise PawError(
            f"transfer.svd_rank = {rank} — expected at most the hidden size {hidden} of {model_dir.name} "
            "(smaller modules use min(rank, their dimensions))"
        )


def decompose_from_params(params: "Params", model_dir: str | Path, out_dir: str | Path) -> dict:
    """The decompose stage for one base: truncated SVDs of rank `transfer.svd_rank`, cached in `out_dir`.
    Returns the summary, with seconds and peak memory."""
    return decompose(model_dir, out_dir, params.transfer.svd_rank, seed=params.seed, dtype=params.models.dtype,
              trust_remote_code=params.models.trust_remote_code)
