"""Refuse params that would make the pipeline's numbers meaningless, before a stage spends time on them."""

from __future__ import annotations

from paw.config import Params
from paw.errors import PawError


def check_consistency(params: Params) -> None:
    """What every training and evaluation stage relies on: one prompt style, known datasets."""
    from paw.data import get_task
    from paw.training.from_params import check_prompt_styles

    check_prompt_styles(params)

    get_task(params.dataset)  # an unknown name fails here, listing the known ones
    for name in params.data.train_datasets:
        get_task(name)


def check_transfer(params: Params) -> None:
    """What the transfer stage relies on: a known method, and the control the report compares it with."""
    if not params.transfer.control:
        raise PawError(
            "params.yaml: transfer.control = false — expected true in the pipeline: the report compares every "
            "transfer with its norm-matched random control (`paw transfer --no-control` can skip it)"
        )
    from paw.transfer import known_methods

    if params.transfer.method not in known_methods():
        raise PawError(
            f"params.yaml: transfer.method = {params.transfer.method!r} — expected one of "
            f"{', '.join(known_methods())}"
        )
