"""Typed params: `load_params()` reads params.yaml into frozen dataclasses and resolves the selected environment."""

from paw.config.load import load_params, parse_params
from paw.config.schema import (
    DataParams,
    EnvProfile,
    EvalParams,
    LoraParams,
    ModelsParams,
    Params,
    ReportParams,
    ToyParams,
    TrackingParams,
    TrainParams,
    TransferParams,
)

__all__ = [
    "DataParams",
    "EnvProfile",
    "EvalParams",
    "LoraParams",
    "ModelsParams",
    "Params",
    "ReportParams",
    "ToyParams",
    "TrackingParams",
    "TrainParams",
    "TransferParams",
    "load_params",
    "parse_params",
]
