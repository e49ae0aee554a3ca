"""What `distill` costs against training the target LoRA, on the toy world, in one process: the target LoRA as the
`train@target` stage trains it (the baseline), then `distill` as the carry stage runs it, with the student reading
each question as one packed row (`share_context: true`, the default) and with one row per choice.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.distill_cost [--target toy-independent] [-S lora.dropout=0]

Needs the `quick` pipeline's toy models and source LoRA (`make repro`). Prints seconds, the ratios to the
baseline measured in the same run, and each distilled adapter's held-out agreement with the teacher (packing
changes the tokens read, not what is learned: the two agreements should match closely).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from paw.config import load_params
from paw.pipeline.layout import adapter_dir, base_model_dir


def train_target_lora(params, out: Path) -> float:
    from paw.training.from_params import train_from_params

    start = time.perf_counter()
    train_from_params(params, base_model_dir(params, "target"), out / "adapter", out / "report", out / "checkpoints")
    return time.perf_counter() - start


def distill(params, out: Path) -> dict:
    from paw.transfer.api import carry_from_params
    from paw.transfer.carried import read_carried

    start = time.perf_counter()
    carry_from_params(params, base_model_dir(params, "source"), adapter_dir("source"), base_model_dir(params, "target"),
                      out / "carried")
    seconds = time.perf_counter() - start
    diagnostics = read_carried(out / "carried").summary["method_diagnostics"]
    return {"seconds": seconds, "agreement": diagnostics["held_out_student"]["agreement"],
            "packed": diagnostics["packed_rows"]}


def _override(text: str) -> tuple[str, object]:
    import yaml

    key, sep, value = text.partition("=")
    if not sep:
        raise SystemExit(f"-S {text!r} — expected KEY=VALUE")
    return key, yaml.safe_load(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="toy-independent", help="a toy target model")
    parser.add_argument("-S", "--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a params override, as `dvc exp run -S` (YAML value)")
    args = parser.parse_args()
    base = {"env": "quick", "envs.quick.target_model": args.target, "transfer.method": "distill",
            **dict(_override(text) for text in args.set)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="paw-distill-cost-") as work:
        work = Path(work)
        baseline = train_target_lora(load_params("params.yaml", base), work / "lora")
        rows.append(["target LoRA (baseline)", f"{baseline:.1f}", "1.00", "—"])
        for packed in (True, False):
            params = load_params("params.yaml", {**base, "transfer.distill.share_context": packed})
            result = distill(params, work / f"distill-{packed}")
            rows.append([f"distill, {'packed rows' if result['packed'] else 'a row per choice'}",
                         f"{result['seconds']:.1f}", f"{result['seconds'] / baseline:.2f}", result["agreement"]])
    print(f"{args.target}: distill (teacher pass + student training + held-out comparison) against the target LoRA")
    print(tabulate(rows, headers=["run", "seconds", "× target LoRA", "held-out agreement"], tablefmt="github"))


if __name__ == "__main__":
    main()
