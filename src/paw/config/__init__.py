"""Typed params: `load_params()` reads params.yaml into frozen dataclasses and resolves the selected environment.

Each section's dataclass lives beside the engine that reads it (`paw/<engine>/params.py`) and is declared with
`paw.fields`, a leaf module: the engines never import this package, so it can import them all.
"""

from __future__ import annotations

from paw.config.load import load_params, parse_params
from paw.config.schema import EnvProfile, Params
from paw.data.params import DataParams
from paw.evaluation.params import EvalParams
from paw.models.params import ModelsParams
from paw.reporting.params import ReportParams
from paw.toy.params import ToyParams
from paw.training.params import LoraParams, TrackingParams, TrainParams
from paw.transfer.params import TransferParams

__all__ = ["DataParams", "EnvProfile", "EvalParams", "LoraParams", "ModelsParams", "Params", "ReportParams",
           "ToyParams", "TrackingParams", "TrainParams", "TransferParams", "load_params", "parse_params"]
