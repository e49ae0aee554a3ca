"""Transfer-then-calibrate: how many distillation steps a weight transfer saves. Sweeps `transfer.distill.max_steps`
for `init: none` (a fresh student) and `init: aligned` (the student starts from aligned's carried adapter) on one
toy target, as queued DVC experiments, and draws recovery against steps.

    .venv/bin/python -m benchmarks.distill_steps                    # queues, runs, writes reports/distill_steps.*
    .venv/bin/python -m benchmarks.distill_steps --table [--rev C]  # only re-reads `dvc exp show`
    .venv/bin/python -m benchmarks.distill_steps --target toy-independent --steps 25 50 100 200

Writes reports/distill_steps.md (the table) and reports/distill_steps.png (recovery with its 95% interval per
step count, one line per init). Each point is a whole experiment: the target LoRA, both evaluations and the paired
statistics come from the same pipeline as every other transfer. Do not commit while it runs: the queue puts HEAD
back where it found it when it ends, dropping such a commit.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from typing import Any, Mapping

from tabulate import tabulate

from benchmarks.toy_transfer_matrix import exp_show, experiments, head, queue_experiment
from paw.io import atomic_file
from paw.reporting.sweep import dvc_executable, lookup

INITS = ("none", "aligned")
STEPS = (25, 50, 100, 200)
REPORT = Path("reports") / "distill_steps"


def experiment_name(target: str, init: str, steps: int) -> str:
    return f"{target.removeprefix('toy-')}-distill-{init}-{steps}"


def queue_all(target: str, steps: tuple[int, ...]) -> None:
    for init in INITS:
        for n in steps:
            queue_experiment(experiment_name(target, init, n), f"envs.quick.target_model={target}",
                             "transfer.method=distill", f"transfer.distill.init={init}",
                             f"transfer.distill.max_steps={n}")
    subprocess.run([dvc_executable(), "exp", "run", "--run-all"], check=True)


def points(entries: Any, target: str, steps: tuple[int, ...]) -> dict[str, list[dict[str, Any]]]:
    """Per init, one point per step count that ran: recovery, its interval, accuracy, seconds."""
    found = dict(experiments(entries))
    out: dict[str, list[dict[str, Any]]] = {init: [] for init in INITS}
    for init in INITS:
        for n in steps:
            metrics = (found.get(experiment_name(target, init, n)) or {}).get("metrics", {})
            summary = lookup(metrics.get("reports/summary.json"), "data")
            if not summary:
                continue
            rec = summary["recovery"]
            out[init].append({
                "steps": n, "recovery": rec.get("estimate"), "low": rec.get("ci_low"), "high": rec.get("ci_high"),
                "acc": summary["models"]["transferred"]["acc"],
                "vs_control": summary["comparisons"]["transferred_vs_control"],
                "seconds": lookup(metrics.get("reports/transfer/diagnostics.json"), "data.totals.seconds"),
            })
    return out


def table(series: Mapping[str, list[dict[str, Any]]]) -> str:
    rows = []
    for init, pts in series.items():
        for p in pts:
            c = p["vs_control"]
            rows.append([init, p["steps"], f"{p['acc']:.3f}", _recovery(p),
                         f"{c['diff'] * 100:+.1f} pts, p={c['p_value']:.2g}",
                         "—" if p["seconds"] is None else f"{p['seconds']:.1f} s"])
    return tabulate(rows, headers=["init", "steps", "transferred acc", "recovery [95% CI]", "vs control", "cost"],
                    tablefmt="github")


def _recovery(p: Mapping[str, Any]) -> str:
    if p["recovery"] is None:
        return "—"
    interval = f" [{p['low']:.2f}, {p['high']:.2f}]" if p["low"] is not None and p["high"] is not None else ""
    return f"{p['recovery']:.2f}{interval}"


def draw(series: Mapping[str, list[dict[str, Any]]], target: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for init, pts in series.items():
        pts = [p for p in pts if p["recovery"] is not None]
        if not pts:
            continue
        xs, ys = [p["steps"] for p in pts], [p["recovery"] for p in pts]
        low = [y - (p["low"] if p["low"] is not None else y) for p, y in zip(pts, ys)]
        high = [(p["high"] if p["high"] is not None else y) - y for p, y in zip(pts, ys)]
        axes.errorbar(xs, ys, yerr=[low, high], marker="o", capsize=3, label=f"init: {init}")
    axes.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    axes.set_xscale("log", base=2)
    axes.set_xlabel("distillation steps")
    axes.set_ylabel("recovery of the target LoRA's gain")
    axes.set_title(f"distill on {target}: fresh student vs starting from aligned")
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="only tabulate experiments that already ran")
    parser.add_argument("--target", default="toy-grown", help="toy target base (default toy-grown)")
    parser.add_argument("--steps", type=int, nargs="+", default=list(STEPS), help="max_steps values swept")
    parser.add_argument("--rev", help="the commit the experiments were queued on (default HEAD)")
    args = parser.parse_args()
    steps, rev = tuple(args.steps), args.rev
    if not args.table:
        rev = head()
        queue_all(args.target, steps)
    series = points(exp_show(rev), args.target, steps)
    text = table(series)
    print(text)
    draw(series, args.target, REPORT.with_suffix(".png"))
    with atomic_file(REPORT.with_suffix(".md")) as handle:
        handle.write(f"# distill on {args.target}: recovery against steps (quick environment, seed 0)\n\n"
                     f"![recovery against steps](distill_steps.png)\n\n{text}\n")


if __name__ == "__main__":
    main()
