"""LoRA transfer between base models: a registry of methods, cached SVDs, diagnostics and norm-matched controls.

API for the pipeline stages:
    decompose_from_params(params, model_dir, out_dir)                      # SVD cache of one base
    carry_from_params(params, source_model_dir, source_adapter_dir, target_model_dir, carried_dir,
                      source_svd_dir=None, target_svd_dir=None) -> dict    # every module carried, saved
    transfer_from_carried_params(params, carried_dir, out_dir, carry_cost=None) -> dict
                                                      # threshold → adapter/, control/, diagnostics
Lower level: `run_transfer(...)` (both parts in one call), `transfer_from_carried(...)`, `decompose(...)`,
`known_methods()`.
"""

from paw.transfer.decompose import decompose, decompose_from_params
from paw.transfer.engine import (
    carry_from_params,
    run_transfer,
    transfer_from_carried,
    transfer_from_carried_params,
)
from paw.transfer.registry import known_methods

__all__ = [
    "carry_from_params",
    "decompose",
    "decompose_from_params",
    "known_methods",
    "run_transfer",
    "transfer_from_carried",
    "transfer_from_carried_params",
]
