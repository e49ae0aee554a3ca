"""Every toy target × every transfer method that fits it, as one queued DVC experiment sweep, and the table the
README quotes: accuracy ± stderr, recovery with its interval, p against the target base and against the control.

    .venv/bin/python -m benchmarks.toy_transfer_matrix            # queues, runs, writes reports/transfer_matrix.md
    .venv/bin/python -m benchmarks.toy_transfer_matrix --table [--rev COMMIT]  # only re-reads `dvc exp show`

Run it in the project after `make repro` (the run-cache then serves every stage an experiment shares).
Do not commit while it runs: the queue puts HEAD back where it found it when it ends, dropping such a commit.
`copy` and `projection` need identical module shapes, so they run on `toy-sibling` only. `distill` is not
training-free: it trains a LoRA on the target (without labels); the `kind` column says so, and `cost` gives each
method's seconds (the whole carry and selection, model loads included; for `distill` also its teacher pass and its
student's training loop) beside the target LoRA's training loop.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any, Iterator, Mapping

from tabulate import tabulate

from paw.io import atomic_file
from paw.reporting.sweep import dvc_executable, lookup, run_exp_show

TARGETS = {"toy-sibling": ("copy", "projection", "cross_lora", "aligned", "activation", "distill"),
           "toy-grown": ("cross_lora", "aligned", "activation", "distill"),
           "toy-independent": ("cross_lora", "aligned", "activation", "distill")}
DIAGNOSTICS, TRAIN_TARGET = "reports/transfer/diagnostics.json", "reports/train/target/metrics.json"
CARRY = "reports/transfer/carry.json"


def experiment_name(target: str, method: str) -> str:
    return f"{target.removeprefix('toy-')}-{method.replace('_', '-')}"


def head() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def exp_show(rev: str | None) -> Any:
    """`dvc exp show --json` for the experiments based on `rev` (HEAD moves when others commit meanwhile)."""
    if rev is None:
        return run_exp_show(".")
    done = subprocess.run([dvc_executable(), "exp", "show", "--json", "--rev", rev], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def queue_experiment(name: str, *overrides: str) -> None:
    """Queue one experiment, replacing an earlier one of that name on this commit (DVC refuses a duplicate name;
    `-f` would lift that too, but it also reruns every stage, where the run-cache could serve the shared ones)."""
    dvc = dvc_executable()
    subprocess.run([dvc, "exp", "remove", name], capture_output=True)  # fails harmlessly when there is none
    settings = [arg for override in overrides for arg in ("-S", override)]
    subprocess.run([dvc, "exp", "run", "--queue", "-n", name, *settings], check=True)


def queue_all() -> None:
    for target, methods in TARGETS.items():
        for method in methods:
            queue_experiment(experiment_name(target, method), f"envs.quick.target_model={target}",
                             f"transfer.method={method}")
    subprocess.run([dvc_executable(), "exp", "run", "--run-all"], check=True)


def experiments(entries: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for entry in entries:
        for experiment in entry.get("experiments") or []:
            for rev in experiment.get("revs") or []:
                if rev.get("name") and isinstance(rev.get("data"), Mapping):
                    yield rev["name"], rev["data"]


def table_rows(entries: Any) -> list[list[str]]:
    found = dict(experiments(entries))
    rows = []
    for target, methods in TARGETS.items():
        for method in methods:
            data = found.get(experiment_name(target, method))
            metrics = (data or {}).get("metrics", {})
            summary = lookup(metrics.get("reports/summary.json"), "data")
            if not summary:
                rows.append([target, method, "not run or failed", "", "", "", "", "", "", "", "", ""])
                continue
            diagnostics = lookup(metrics.get(DIAGNOSTICS), "data") or {}
            models, comparisons, rec = summary["models"], summary["comparisons"], summary["recovery"]
            rows.append([
                target, method,
                *(accuracy_cell(models[name]) for name in ("target_base", "transferred", "control", "target_lora")),
                recovery_cell(rec),
                *(comparison_cell(comparisons[name]) for name in
                  ("transferred_vs_target_base", "transferred_vs_control", "target_lora_vs_target_base")),
                diagnostics.get("method_kind", "training-free"),
                _cost(lookup(diagnostics, "totals.seconds"), lookup(metrics.get(CARRY), "data") or {},
                      lookup(metrics.get(TRAIN_TARGET), "data.seconds")),
            ])
    return rows


def recovery_cell(rec: Mapping[str, Any]) -> str:
    if rec.get("estimate") is None:
        return "— (no LoRA gain)"
    low, high = rec.get("ci_low"), rec.get("ci_high")
    interval = f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""
    return f"{rec['estimate']:.2f}{interval}"


def _cost(seconds: Any, carry: Mapping[str, Any], lora_seconds: Any) -> str:
    """The method's whole transfer (loads included) and, beside it, the target LoRA's training loop; for `distill`
    also its own parts, so its student's loop compares with the target LoRA's like with like."""
    if seconds is None:
        return "—"
    parts = ""
    if carry.get("teacher_seconds") is not None and carry.get("train_seconds") is not None:
        parts = f": teacher {carry['teacher_seconds']:.1f} s, student loop {carry['train_seconds']:.1f} s"
    lora = f"; target LoRA loop {lora_seconds:.1f} s" if lora_seconds is not None else ""
    return f"{seconds:.1f} s{parts}{lora}"


def accuracy_cell(model: Mapping[str, Any]) -> str:
    return f"{model['acc']:.3f} ± {model['acc_stderr']:.3f}"


def comparison_cell(comparison: Mapping[str, Any]) -> str:
    sign = "+" if comparison["diff"] >= 0 else "−"
    return f"{sign}{abs(comparison['diff']) * 100:.1f} pts, p={comparison['p_value']:.2g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="only tabulate experiments that already ran")
    parser.add_argument("--rev", help="the commit the experiments were queued on (default HEAD)")
    args = parser.parse_args()
    rev = args.rev
    if not args.table:
        rev = head()
        queue_all()
    headers = ["target", "method", "target base", "transferred", "control", "target LoRA", "recovery [95% CI]",
               "transferred − base", "transferred − control", "target LoRA − base", "kind", "cost"]
    table = tabulate(table_rows(exp_show(rev)), headers=headers, tablefmt="github")
    print(table)
    with atomic_file(Path("reports") / "transfer_matrix.md") as handle:
        handle.write("# Toy targets × transfer methods (quick environment, seed 0)\n\n" + table + "\n")


if __name__ == "__main__":
    main()
