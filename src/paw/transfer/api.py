"""LoRA transfer between base models: a registry of methods, cached SVDs, diagnostics and norm-matched controls.

API for the pipeline stages:
    decompose_from_params(params, model_dir, out_dir)                      # SVD cache of one base
    carry_from_params(params, source_model_dir, source_adapter_dir, target_model_dir, carried_dir,
                      source_svd_dir=None, target_svd_dir=None) -> dict    # every module carried, saved
    transfer_from_carried_params(params, carried_dir, out_dir, carry_cost=None) -> dict
                                                      # threshold → adapter/, control/, diagnostics
Lower level: `run_transfer(..., TransferSpec(...))` or with the spec's fields as keywords (both parts in one
call), `transfer_from_carried(...)`, `decompose(...)`, `known_methods()`. `TransferSpec` holds every setting that
decides a transfer's numbers, checked once (`TransferSpec.from_params(params)` for the pipeline's).
"""

from paw.transfer.decompose import decompose, decompose_from_params
from paw.transfer.engine import (
    carry_from_params,
    run_transfer,
    transfer_from_carried,
    transfer_from_carried_params,
)
from paw.transfer.registry import known_methods
from paw.transfer.spec import TransferSpec

__all__ = [
    "TransferSpec",
    "carry_from_params",
    "decompose",
    "decompose_from_params",
    "known_methods",
    "run_transfer",
    "transfer_from_carried",
    "transfer_from_carried_params",
]
