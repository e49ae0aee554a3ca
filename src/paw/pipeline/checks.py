"""Refuse params that would make the pipeline's numbers meaningless, before a stage spends time on them."""

from __future__ import annotations

from paw.config import Params
from paw.data import get_task
from paw.training.params import check_prompt_styles


def check_consistency(params: Params) -> None:
    """What every training and evaluation stage relies on: one prompt style, known datasets."""
    check_prompt_styles(params)

    get_task(params.dataset)  # an unknown name fails here, listing the known ones
    for name in params.data.train_datasets:
        get_task(name)
