"""The `data` section of params.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from paw.fields import param, positive


@dataclass(frozen=True)
class DataParams:
    dataset: str = param("arc-challenge", expect="a known dataset name")  # the task trained and evaluated
    data_path: str | None = param(None, expect="a local file or directory")  # local files; null = the hub id
    train_datasets: tuple[str, ...] = param((), expect="a list of dataset names")  # mixture for training; () = dataset
    max_train_samples: int | None = param(None, check=positive, expect="a positive integer")  # cap per train set
