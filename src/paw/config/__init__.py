"""Typed params: `load_params()` reads params.yaml into frozen dataclasses and resolves the selected environment.

Names resolve on first use: each section's dataclass lives beside its reader (`paw/<sub>/params.py`) and imports
`paw.config.fields`, so importing this package must not import the schema eagerly (that would be circular).
"""

from __future__ import annotations

from paw.lazy import lazy_exports

_EXPORTS = {
    "load_params": "paw.config.load",
    "parse_params": "paw.config.load",
    "Params": "paw.config.schema",
    "EnvProfile": "paw.config.schema",
    "DataParams": "paw.data.params",
    "ModelsParams": "paw.models.params",
    "TrainParams": "paw.training.params",
    "LoraParams": "paw.training.params",
    "TrackingParams": "paw.training.params",
    "EvalParams": "paw.evaluation.params",
    "TransferParams": "paw.transfer.params",
    "ReportParams": "paw.reporting.params",
    "ToyParams": "paw.toy.params",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
