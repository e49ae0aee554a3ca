"""Peak memory of this process (RAM and, where present, GPU), for the metrics every stage writes."""

from __future__ import annotations

import resource
import sys
from paw.errors import PawError


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


def available_ram_bytes() -> int:
    """Memory the kernel can still give this process without swapping (MemAvailable)."""
    import psutil

    return int(psutil.virtual_memory().available)


def check_memory_for(what: str, need_bytes: int, knobs: str) -> None:
    """Refuse a phase whose estimated extra memory exceeds what is available, before it starts.

    On Linux a process that runs out of RAM is killed by the kernel (SIGKILL): no Python error, no message, and
    minutes of work lost. An estimate checked up front turns that into one line with the knob to turn."""
    available = available_ram_bytes()
    if need_bytes > available:
        raise PawError(f"{what} needs about {need_bytes / 2**30:.1f} GiB more memory, {available / 2**30:.1f} GiB "
                       f"is available — lower {knobs}")


def check_disk_for(what: str, need_bytes: int, knobs: str) -> None:
    """Refuse a phase whose files the temporary directory's disk cannot hold (a spilled probe), before it starts."""
    import shutil
    import tempfile

    folder = tempfile.gettempdir()
    free = shutil.disk_usage(folder).free
    if need_bytes > free:
        raise PawError(f"{what} needs about {need_bytes / 2**30:.1f} GiB of disk in {folder}, "
                       f"{free / 2**30:.1f} GiB is free — point TMPDIR at a larger disk or lower {knobs}")
