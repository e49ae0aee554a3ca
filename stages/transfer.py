"""Transfer the source LoRA to the target base (plus its norm-matched control).  Serves `dvc repro transfer`."""

from paw.config import load_params
from paw.io import atomic_dir
from paw.pipeline.checks import check_consistency, check_transfer
from paw.pipeline.layout import TRANSFER_DIR, TRANSFER_REPORT_DIR, adapter_dir, base_model_dir, svd_dir
from paw.pipeline.stage import run_stage


def main() -> None:
    from paw.transfer import transfer_from_params

    params = load_params()
    check_consistency(params)
    check_transfer(params)
    transfer_from_params(
        params,
        base_model_dir(params, "source"),
        adapter_dir("source"),
        base_model_dir(params, "target"),
        TRANSFER_DIR,
        source_svd_dir=svd_dir("source"),
        target_svd_dir=svd_dir("target"),
    )
    # Diagnostics go to reports/ (in git) so `dvc metrics diff` compares them across branches.
    with atomic_dir(TRANSFER_REPORT_DIR) as tmp:
        for name in ("diagnostics.json", "diagnostics.md"):
            (TRANSFER_DIR / name).replace(tmp / name)


if __name__ == "__main__":
    run_stage(main)
