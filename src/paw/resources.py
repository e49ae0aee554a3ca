"""Peak memory of this process (RAM and, where present, GPU), for the metrics every stage writes."""

from __future__ import annotations

import resource
import sys


def peak_ram_mb() -> float:
    """Peak resident set size of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def peak_gpu_mb() -> float | None:
    """Peak GPU memory allocated by torch in this process, in MiB; None without CUDA."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


def release_memory() -> None:
    """Free cached allocator blocks between phases (training, then evaluation) so they do not pile up."""
    import gc

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
