"""Refuse params that would make the pipeline's numbers meaningless, before any stage spends time on them."""

from __future__ import annotations

from paw.config import Params
from paw.errors import PawError


def check_consistency(params: Params) -> None:
    if params.train.prompt_style != params.eval.prompt_style:
        raise PawError(
            f"params.yaml: train.prompt_style = {params.train.prompt_style!r} but eval.prompt_style = "
            f"{params.eval.prompt_style!r} — expected the same style: a LoRA trained on one prompt format and "
            "scored on another measures the format change, not the transfer"
        )
    if not params.transfer.control:
        raise PawError(
            "params.yaml: transfer.control = false — expected true in the pipeline: the report compares every "
            "transfer with its norm-matched random control (`paw transfer` alone can skip it)"
        )
    from paw.data import get_task

    get_task(params.dataset)  # an unknown name fails here, listing the known ones
    for name in params.data.train_datasets:
        get_task(name)
