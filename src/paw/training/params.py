"""The `train`, `lora` and `tracking` sections of params.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from paw.errors import PawError
from paw.fields import in_closed, in_open_closed, non_negative, one_of, param, positive

LORA_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class TrainParams:
    lr: float = param(1.0e-5, check=in_open_closed(0, 1), expect="a number in (0, 1]")  # AdamW peak learning rate
    weight_decay: float = param(0.0, check=non_negative, expect="a non-negative number")
    warmup_ratio: float = param(0.1, check=in_closed(0, 1), expect="a number in [0, 1]")  # share of steps warming up
    schedule: str = param("cosine", check=one_of("cosine", "linear", "constant"), expect="cosine, linear or constant")
    grad_clip: float = param(1.0, check=non_negative, expect="a non-negative number")  # 0 = no clipping
    prompt_style: str = param("cloze", check=one_of("cloze", "letter"), expect="cloze or letter")
    max_length: int = param(512, check=positive, expect="a positive integer")  # longer examples are cut on the left
    val_every_n_steps: int = param(50, check=positive, expect="a positive integer")
    val_samples: int = param(64, check=positive, expect="a positive integer")  # validation subset size
    log_every_n_steps: int = param(10, check=positive, expect="a positive integer")
    checkpoint_every_n_steps: int = param(50, check=positive, expect="a positive integer")


@dataclass(frozen=True)
class LoraParams:
    r: int = param(16, check=positive, expect="a positive integer")  # rank: higher = more capacity, more memory
    alpha: float = param(32.0, check=positive, expect="a positive number")  # update scale is alpha / r
    dropout: float = param(0.1, check=in_closed(0, 0.9), expect="a number in [0, 0.9]")
    target_modules: tuple[str, ...] = param(LORA_MODULES, expect="a list of module names")
    bias: str = param("none", check=one_of("none", "all", "lora_only"), expect="none, all or lora_only")


@dataclass(frozen=True)
class SwanlabParams:
    mode: str = param("disabled", check=one_of("disabled", "offline", "cloud"), expect="disabled, offline or cloud")
    project: str = param("paw")  # SwanLab project name


@dataclass(frozen=True)
class TrackingParams:
    swanlab: SwanlabParams = param(default_factory=SwanlabParams)


def check_prompt_styles(params) -> None:
    """Training and scoring must use one prompt style (the env block may override both, see EnvProfile)."""
    if params.train.prompt_style != params.eval.prompt_style:
        raise PawError(
            f"params.yaml: train.prompt_style = {params.train.prompt_style!r} but eval.prompt_style = "
            f"{params.eval.prompt_style!r} — expected the same style: a LoRA trained on one prompt format and "
            "scored on another measures the format change, not the transfer"
        )
