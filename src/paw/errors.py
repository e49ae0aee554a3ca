"""The one exception type a user sees — a message that names what is wrong and what was expected — and how every
entry point (the `paw` command, each pipeline stage) turns it into one line and exit status 2. Anything else is a
bug and keeps its traceback, except running out of memory, which gets advice instead.
"""

from __future__ import annotations

import sys
import traceback

EXIT_USER_ERROR = 2


class PawError(Exception):
    """A user-facing error: bad params, a missing file, an input that does not fit."""


def run_guarded(action, debug: bool = False) -> int:
    """Run `action`; turn a PawError into one line on stderr and a non-zero exit."""
    try:
        result = action()
    except PawError as exc:
        if debug:
            traceback.print_exc()
        print(f"paw: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("paw: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if not _is_out_of_memory(exc):
            raise
        if debug:
            traceback.print_exc()
        print(f"paw: error: {OUT_OF_MEMORY}", file=sys.stderr)
        return EXIT_USER_ERROR
    return int(result or 0)


OUT_OF_MEMORY = (
    "out of memory (CPU RAM or GPU) — the batch does not fit: lower envs.<env>.train_batch_size (and raise "
    "grad_accum to keep the effective batch) or envs.<env>.eval_batch_size, use precision bf16-mixed or "
    "models.dtype bfloat16; for a transfer, lower transfer.<method>.max_positions or probe_size"
)
# torch's CPU allocator raises a plain RuntimeError when malloc fails (before the kernel's OOM killer acts).
CPU_ALLOCATION_FAILED = "DefaultCPUAllocator: can't allocate memory"


def _is_out_of_memory(exc: BaseException) -> bool:
    torch = sys.modules.get("torch")
    if isinstance(exc, MemoryError):
        return True
    if isinstance(exc, RuntimeError) and CPU_ALLOCATION_FAILED in str(exc):
        return True
    return torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError)
