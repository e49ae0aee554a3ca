"""`SpilledActivations`: probe activations kept on disk until a fit reads them.

On real models the probe's activations outweigh everything else a carry holds: at 2,048 positions, every adapted
input and output of Qwen2.5 0.5B and 1.5B is 6.4 GB of float32, and a fit needs only one layer's at a time. So the
forward passes append each module's kept rows to a file of its own, a fit reads the file (and keeps it while the
layer is worked on), and releasing a key deletes both. The folder is a temporary directory (`TMPDIR` chooses
where), removed by `cleanup` or when the store is garbage-collected.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from paw.errors import PawError

if TYPE_CHECKING:
    import torch

Key = tuple[str, str]  # (side, module path)


class SpilledActivations:
    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="paw-probe-")
        self._widths: dict[Key, int] = {}
        self._loaded: dict[Key, "torch.Tensor"] = {}

    def _file(self, key: Key) -> Path:
        return Path(self._folder.name) / f"{key[0]}--{key[1]}.f32"

    def append(self, key: Key, rows: "torch.Tensor") -> None:
        import torch

        rows = rows.detach().to(torch.float32).contiguous()
        width = self._widths.setdefault(key, rows.shape[1])
        if rows.shape[1] != width:
            raise PawError(f"activation rows of {key[1]} ({key[0]}) changed width from {width} to {rows.shape[1]}")
        with self._file(key).open("ab") as handle:
            handle.write(rows.numpy().tobytes())

    def __getitem__(self, key: Key) -> "torch.Tensor":
        if key not in self._loaded:
            import numpy as np
            import torch

            if key not in self._widths:
                raise KeyError(key)
            data = np.fromfile(self._file(key), dtype=np.float32)
            self._loaded[key] = torch.from_numpy(data.reshape(-1, self._widths[key]))
        return self._loaded[key]

    def pop(self, key: Key, default: Any = None) -> Any:
        if key not in self._widths:
            return default
        tensor = self._loaded.pop(key, None)
        del self._widths[key]
        self._file(key).unlink(missing_ok=True)
        return tensor if tensor is not None else default

    def __contains__(self, key: object) -> bool:
        return key in self._widths

    def __iter__(self) -> Iterator[Key]:
        return iter(list(self._widths))

    def __len__(self) -> int:
        return len(self._widths)

    def cleanup(self) -> None:
        self._loaded.clear()
        self._widths.clear()
        self._folder.cleanup()
