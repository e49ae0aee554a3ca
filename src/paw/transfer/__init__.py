"""LoRA transfer between base models: a registry of methods, cached SVDs, diagnostics and norm-matched controls.

API for the pipeline stages:
    decompose_from_params(params, model_dir, out_dir)                      # SVD cache of one base
    transfer_from_params(params, source_model_dir, source_adapter_dir, target_model_dir, out_dir,
                         source_svd_dir=None, target_svd_dir=None) -> dict # writes adapter/, control/, diagnostics
Lower level: `run_transfer(...)`, `decompose(...)`, `known_methods()`.
"""

from paw.transfer.decompose import decompose, decompose_from_params
from paw.transfer.engine import run_transfer, transfer_from_params
from paw.transfer.registry import known_methods

__all__ = ["decompose", "decompose_from_params", "known_methods", "run_transfer", "transfer_from_params"]
