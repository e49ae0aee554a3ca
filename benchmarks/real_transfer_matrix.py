"""Real pairs × transfer methods, one `dvc exp run` each, in the project's workspace, and the table the README
quotes: accuracy ± stderr on the env's report metric, recovery with its interval, the paired tests, and every
stage's seconds and peak RAM.

    python -m benchmarks.real_transfer_matrix --data-path ../shared/benchmarks/arc_easy   # runs, then tabulates
    python -m benchmarks.real_transfer_matrix --table                                     # re-tabulates only

Run it with the environment active (`source .venv/bin/activate`) after `make real-models`. Experiments run one
after another in the workspace (not queued: the real models and local rows sit beside the project, where a queued
experiment's temporary copy does not see them); stages that two experiments share (the bases' evaluations, both
LoRAs) run once and come from DVC's run-cache afterwards. Each finished experiment's numbers are appended to
reports/real_matrix.json, so an interrupted sweep keeps what it measured and `--table` renders it.

`distill` trains on the target; its teacher scores `DISTILL_QUESTIONS` sampled training questions (every question
would cost an evaluation of the whole train split) and its student takes `DISTILL_STEPS` steps of
`DISTILL_BATCH` questions: on ARC that is 4 × DISTILL_STEPS × DISTILL_BATCH scored sequences, against the target
LoRA's max_steps × train_batch_size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path
from typing import Any, Mapping

from tabulate import tabulate

from benchmarks.toy_transfer_matrix import comparison_cell, recovery_cell
from paw.io import atomic_file, read_json
from paw.reporting.sweep import dvc_executable

PAIRS = {"gemma3-270m → qwen2.5-coder-0.5b": ("gemma-3-270m", "qwen2.5-coder-0.5b-instruct"),
         "qwen2.5-coder-0.5b → 1.5b": ("qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct")}
METHODS = ("aligned", "cross_lora", "activation", "distill")
DISTILL_QUESTIONS, DISTILL_STEPS, DISTILL_BATCH = 240, 60, 4
RESULTS, TABLE = Path("reports/real_matrix.json"), Path("reports/real_matrix.md")
STAGE_METRICS = {
    "eval source base": "reports/eval/source_base/metrics.json",
    "train source LoRA": "reports/train/source/metrics.json",
    "carry": "reports/transfer/carry.json",
    "eval target base": "reports/eval/target_base/metrics.json",
    "eval transferred": "reports/eval/transferred/metrics.json",
    "eval control": "reports/eval/control/metrics.json",
    "train target LoRA": "reports/train/target/metrics.json",
    "eval target LoRA": "reports/eval/target_lora/metrics.json",
}


def method_overrides(method: str, distill: tuple[int, int, int]) -> list[str]:
    if method != "distill":
        return []
    questions, steps, batch = distill
    return [f"transfer.distill.max_questions={questions}", f"transfer.distill.max_steps={steps}",
            f"transfer.distill.batch_size={batch}"]


def run_one(pair: str, method: str, data_path: str | None,
            distill: tuple[int, int, int] = (DISTILL_QUESTIONS, DISTILL_STEPS, DISTILL_BATCH),
            extra: tuple[str, ...] = ()) -> dict[str, Any]:
    source, target = PAIRS[pair]
    sets = ["env=real", f"envs.real.source_model={source}", f"envs.real.target_model={target}",
            f"transfer.method={method}", *method_overrides(method, distill), *extra]
    if data_path:
        sets.append(f"envs.real.data_path={data_path}")
    # -f: a rerun (other options, or a later commit) replaces the experiment of the same name instead of refusing
    command = [dvc_executable(), "exp", "run", "-f", "-n", f"real-{source}-{target}-{method}".replace(".", "")]
    for value in sets:
        command += ["-S", value]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return collect(pair, method, sets, time.perf_counter() - start)


def collect(pair: str, method: str, sets: list[str], wall_seconds: float) -> dict[str, Any]:
    """What the finished experiment left in the workspace: its summary and each stage's cost."""
    stages = {}
    for name, path in STAGE_METRICS.items():
        metrics = read_json(Path(path))
        stages[name] = {"seconds": metrics.get("seconds"), "peak_ram_mb": metrics.get("peak_ram_mb")}
    return {"pair": pair, "method": method, "sets": sets, "wall_seconds": round(wall_seconds, 1),
            "summary": read_json(Path("reports/summary.json")), "stages": stages}


def record(row: Mapping[str, Any]) -> None:
    rows = [r for r in load_rows() if (r["pair"], r["method"]) != (row["pair"], row["method"])] + [dict(row)]
    with atomic_file(RESULTS) as handle:
        json.dump(rows, handle, indent=2)
        handle.write("\n")


def load_rows() -> list[dict[str, Any]]:
    return json.loads(RESULTS.read_text()) if RESULTS.exists() else []


def _acc(models: Mapping[str, Any], name: str, metric: str) -> str:
    model = models[name]
    return f"{model[metric]:.3f} ± {model[metric + '_stderr']:.3f}"


def result_rows(rows: list[Mapping[str, Any]]) -> list[list[str]]:
    table = []
    for row in rows:
        summary = row["summary"]
        models, comparisons, metric = summary["models"], summary["comparisons"], summary["run"]["metric"]
        table.append([
            row["pair"], row["method"], summary["transfer"]["kind"], metric,
            *(_acc(models, name, metric) for name in ("target_base", "transferred", "control", "target_lora")),
            recovery_cell(summary["recovery"]),
            *(comparison_cell(comparisons[name]) for name in
              ("transferred_vs_target_base", "transferred_vs_control", "target_lora_vs_target_base")),
        ])
    return table


def cost_rows(rows: list[Mapping[str, Any]]) -> list[list[str]]:
    table = []
    for row in rows:
        cells = [row["pair"], row["method"]]
        for stage in STAGE_METRICS.values():
            cost = next(c for name, c in row["stages"].items() if STAGE_METRICS[name] == stage)
            seconds, ram = cost["seconds"], cost["peak_ram_mb"]
            cells.append("—" if seconds is None else f"{seconds:.0f} s / {ram / 1024:.1f} GB")
        table.append(cells)
    return table


def render(rows: list[Mapping[str, Any]]) -> str:
    results = tabulate(result_rows(rows), tablefmt="github", headers=[
        "pair", "method", "kind", "metric", "target base", "transferred", "control", "target LoRA",
        "recovery [95% CI]", "transferred − base", "transferred − control", "target LoRA − base"])
    costs = tabulate(cost_rows(rows), tablefmt="github", headers=["pair", "method", *STAGE_METRICS])
    commands = "\n".join(f"- {r['pair']}, {r['method']}: `dvc exp run " + " ".join(f"-S {s}" for s in r["sets"])
                         + f"` ({r['wall_seconds'] / 60:.0f} min wall for what was not already cached)" for r in rows)
    return ("# Real pairs × transfer methods (env `real`, this CPU, seed 0)\n\n"
            "Accuracy ± stderr on the env's report metric; paired bootstrap intervals and exact McNemar p-values "
            "(see `reports/summary.md` of each experiment).\n"
            "Recovery = (transferred − base) / (target LoRA − base).\n\n"
            + results + "\n\n## Cost of each stage: seconds / peak RSS\n\n"
            "A stage that two experiments share ran once; its figures repeat.\n\n"
            + costs + "\n\n## Commands\n\n" + commands + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="only render reports/real_matrix.json")
    parser.add_argument("--data-path", help="local rows in the hub schema (offline); default: the hub id")
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=PAIRS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--distill", nargs=3, type=int, metavar=("QUESTIONS", "STEPS", "BATCH"),
                        default=[DISTILL_QUESTIONS, DISTILL_STEPS, DISTILL_BATCH],
                        help="distill's teacher questions, student steps and questions per step")
    parser.add_argument("-S", "--set", action="append", default=[], metavar="KEY=VALUE",
                        help="another `dvc exp run -S` override for every experiment of this sweep")
    args = parser.parse_args()
    if not args.table:
        for pair in args.pairs:
            for method in args.methods:
                record(run_one(pair, method, args.data_path, tuple(args.distill), tuple(args.set)))
                print(render(load_rows()), flush=True)
    text = render(load_rows())
    with atomic_file(TABLE) as handle:
        handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
