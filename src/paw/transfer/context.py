"""Everything a transfer method may consult: both bases (`paw.transfer.bases.Base`: structure, single weights read
when asked, whole models only inside `loaded`), their layouts and truncated SVDs, the source adapter's tensors,
tokenizers and probe text (lazily: only methods that need them pay for them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from paw.errors import PawError
from paw.models import load_tokenizer
from paw.transfer.bases import Base
from paw.transfer.decompose import Factors, svd_seed, truncated_svd
from paw.transfer.layout import LinearSite, Layout
from paw.transfer.registry import get_method, known_methods

if TYPE_CHECKING:
    import torch

    from paw.transfer.carried import LoraUpdate


@dataclass(frozen=True)
class ModulePair:
    target: LinearSite
    source: LinearSite


@dataclass
class TransferContext:
    source_dir: Path
    target_dir: Path
    source: Base
    target: Base
    source_layout: Layout
    target_layout: Layout
    adapter: dict[str, "LoraUpdate"]  # source module path -> its update (A [r×in], B [out×r])
    r: int
    alpha: float
    svd_rank: int  # k of the truncated SVDs (the LoRA rank is `r`)
    seed: int
    svd_source: dict[str, Factors]
    svd_target: dict[str, Factors]
    svd_on_demand: tuple[str, ...] = ()  # sides without a cached decomposition: SVDs computed when first needed
    probe_loader: Callable[[], list[str]] | None = None
    trust_remote_code: bool = False
    # Loaded once, when first asked for (a method's fitted state lives on the method's instance, one per run).
    _tokenizers: dict[str, Any] = field(default_factory=dict, repr=False)
    _probe: list[str] | None = field(default=None, repr=False)
    _cleanups: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def on_close(self, *cleanups: Callable[[], None]) -> None:
        """Run these when the carry ends, however it ends (temporary files of a method's prepare)."""
        self._cleanups.extend(cleanups)

    def close(self) -> None:
        cleanups, self._cleanups = self._cleanups, []
        for cleanup in cleanups:
            cleanup()

    def base(self, side: str) -> Base:
        return self.source if side == "source" else self.target

    def weight(self, side: str, path: str) -> "torch.Tensor":
        """Module `path`'s weight as float32, read from the checkpoint (not held: callers keep what they need)."""
        return self.base(side).weight(path)

    def factors(self, side: str, path: str) -> Factors:
        table = self.svd_source if side == "source" else self.svd_target
        if path not in table:
            if side not in self.svd_on_demand:
                raise PawError(f"the {side} decomposition has no module {path} — rerun the decompose step")

            table[path] = truncated_svd(self.weight(side, path), self.svd_rank, svd_seed(self.seed, path))
        return table[path]

    def tokenizer(self, side: str):
        if side not in self._tokenizers:
            folder = self.source_dir if side == "source" else self.target_dir
            self._tokenizers[side] = load_tokenizer(folder, trust_remote_code=self.trust_remote_code)
        return self._tokenizers[side]

    def probe_texts(self) -> list[str]:
        if self._probe is None:
            if self.probe_loader is None:
                raise PawError(f"this transfer needs probe text and was given none: set probe_file in the options "
                               f"of the method in use ({probe_option_keys()})")
            texts = [t for t in self.probe_loader() if t.strip()]
            if not texts:
                raise PawError("the probe text is empty — expected at least one non-empty line or question")
            self._probe = texts
        return self._probe


def probe_option_keys() -> str:
    """`transfer.activation.probe_file or transfer.aligned.probe_file`: the real keys, from the registry (the
    context is not told which method runs)."""
    import dataclasses

    keys = [f"transfer.{name}.probe_file" for name in known_methods()
            if "probe_file" in {f.name for f in dataclasses.fields(get_method(name).Options)}]
    return " or ".join(keys)
