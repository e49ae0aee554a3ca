"""PEFT LoRA adapter directories: validate before use, attach to a base, write from tensors.

An adapter is untrusted input: its config is checked, its weights must be safetensors, and every tensor must fit
a module of the base it is attached to — a mismatch is an error, never a silently ignored adapter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from paw.errors import PawError
from paw.io import read_json
from paw.models.loading import open_safetensors

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

CONFIG_NAME = "adapter_config.json"
WEIGHTS_NAME = "adapter_model.safetensors"
# A LoRA tensor's key in adapter_model.safetensors: groups `module` (the base module's path) and `part` (A or B).
LORA_TENSOR_KEY = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?P<part>A|B)(?:\.default)?\.weight$")


@dataclass(frozen=True)
class AdapterInfo:
    path: Path
    r: int
    alpha: float
    target_modules: tuple[str, ...]
    base_model: str | None
    shapes: dict[str, dict[str, tuple[int, ...]]]  # module path -> {"A": shape, "B": shape}


def read_adapter(adapter_dir: str | Path) -> AdapterInfo:
    """Check an adapter directory's config and safetensors header without loading any tensor."""
    adapter_dir = Path(adapter_dir)
    if not adapter_dir.is_dir():
        raise PawError(f"{adapter_dir}: adapter directory not found")
    config_path = adapter_dir / CONFIG_NAME
    if not config_path.is_file():
        raise PawError(f"{adapter_dir}: not a PEFT adapter — {CONFIG_NAME} is missing")
    config = read_json(config_path)
    if not isinstance(config, dict):
        raise PawError(f"{config_path}: expected a JSON object (a PEFT adapter config)")
    if config.get("peft_type") != "LORA":
        raise PawError(f"{config_path}: peft_type = {config.get('peft_type')!r} — expected 'LORA'")
    for key, kind in (("r", int), ("lora_alpha", (int, float))):
        if not isinstance(config.get(key), kind) or isinstance(config.get(key), bool) or config[key] <= 0:
            raise PawError(f"{config_path}: {key} = {config.get(key)!r} — expected a positive number")
    weights = adapter_dir / WEIGHTS_NAME
    if not weights.is_file():
        pickled = (adapter_dir / "adapter_model.bin").exists()
        why = " (only adapter_model.bin, a pickle format that can run code, is present)" if pickled else ""
        raise PawError(f"{adapter_dir}: {WEIGHTS_NAME} is missing{why}")
    shapes = _read_shapes(weights)
    targets = config.get("target_modules") or []
    if isinstance(targets, str):
        targets = [targets]
    return AdapterInfo(
        path=adapter_dir,
        r=int(config["r"]),
        alpha=float(config["lora_alpha"]),
        target_modules=tuple(sorted(targets)),
        base_model=config.get("base_model_name_or_path"),
        shapes=shapes,
    )


def _read_shapes(weights: Path) -> dict[str, dict[str, tuple[int, ...]]]:
    shapes: dict[str, dict[str, tuple[int, ...]]] = {}
    with open_safetensors(weights) as handle:
        for key in handle.keys():
            match = LORA_TENSOR_KEY.match(key)
            if match is None:
                continue
            shape = tuple(handle.get_slice(key).get_shape())
            shapes.setdefault(match["module"], {})[match["part"]] = shape
    if not shapes:
        raise PawError(f"{weights}: holds no LoRA tensors (expected keys like base_model.model.…lora_A.weight)")
    for module, parts in shapes.items():
        if set(parts) != {"A", "B"}:
            raise PawError(f"{weights}: module {module} has lora_{'A' if 'A' in parts else 'B'} only")
    return shapes


def check_adapter_fits(model: "PreTrainedModel", info: AdapterInfo) -> None:
    """Every LoRA tensor must name a Linear module of `model` with matching in/out features."""
    modules = dict(model.named_modules())
    for module, parts in sorted(info.shapes.items()):
        target = modules.get(module)
        if target is None or not hasattr(target, "in_features"):
            raise PawError(
                f"{info.path}: adapter module {module} does not exist in the base model — "
                "the adapter was made for another base"
            )
        (r_a, d_in), (d_out, r_b) = parts["A"], parts["B"]
        if (d_in, d_out) != (target.in_features, target.out_features) or r_a != r_b:
            raise PawError(
                f"{info.path}: adapter module {module} has shape {d_out}×{d_in} (rank {r_a}) but the base module is "
                f"{target.out_features}×{target.in_features} — the adapter was made for another base"
            )


def attach_adapter(model: "PreTrainedModel", adapter_dir: str | Path, trainable: bool = False):
    """Validate, then wrap `model` in a PeftModel carrying the adapter (weights via safetensors)."""
    info = read_adapter(adapter_dir)
    check_adapter_fits(model, info)
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(info.path), is_trainable=trainable)


def normalize_adapter_config(adapter_dir: str | Path, base_model_name: str) -> None:
    """Make adapter_config.json reproducible: target_modules sorted (PEFT writes set order, which changes between
    processes and makes DVC see a change) and the base recorded by name, not by this machine's absolute path."""
    path = Path(adapter_dir) / CONFIG_NAME
    config = json.loads(path.read_text())
    if isinstance(config.get("target_modules"), list):
        config["target_modules"] = sorted(config["target_modules"])
    config["base_model_name_or_path"] = base_model_name
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def write_adapter(
    out_dir: str | Path,
    weights: Mapping[str, tuple["torch.Tensor", "torch.Tensor"]],
    r: int,
    alpha: float,
    base_model_name: str,
    full_paths: bool = False,
) -> None:
    """Write a standard PEFT LoRA dir from {module path: (A [r×in], B [out×r])}; PeftModel.from_pretrained loads it.
    `out_dir` should be a fresh temporary directory (see paw.io.atomic_dir).

    `target_modules` lists kind names (q_proj, …), or with `full_paths` each module's path: for an adapter that
    covers only some modules of a kind, kind names would make PEFT wrap the others too (as zero updates, warning
    that their weights are missing). The config is PEFT's own, normalized like a trained adapter's."""
    import torch
    from peft import LoraConfig
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for module, (a, b) in sorted(weights.items()):
        tensors[f"base_model.model.{module}.lora_A.weight"] = a.detach().to(torch.float32).contiguous().cpu()
        tensors[f"base_model.model.{module}.lora_B.weight"] = b.detach().to(torch.float32).contiguous().cpu()
    targets = sorted(weights) if full_paths else sorted({module.rsplit(".", 1)[-1] for module in weights})
    save_file(tensors, str(out_dir / WEIGHTS_NAME), metadata={"format": "pt"})
    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=targets, lora_dropout=0.0, bias="none",
                        task_type="CAUSAL_LM", inference_mode=True)
    config.save_pretrained(str(out_dir))
    normalize_adapter_config(out_dir, base_model_name)
