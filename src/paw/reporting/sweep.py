"""`paw report sweep`: the transferred adapter's accuracy and coverage against one swept parameter.

Reads `dvc exp show --json` (DVC from PATH, run in the repository) and writes reports/sweep.{md,csv,png}: one row
per commit or experiment, sorted by the parameter. The JSON is walked defensively — queued, running or failed
experiments have no metrics (or an "error" in place of them) and are listed with their state but not charted.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, Mapping

from tabulate import tabulate

from paw.errors import PawError
from paw.io import atomic_file

SUMMARY_FILE = "reports/summary.json"
# Column -> dotted key in summary.json (see paw.reporting.summary).
METRIC_COLUMNS = {
    "transferred_acc": "models.transferred.acc",
    "transferred_acc_stderr": "models.transferred.acc_stderr",
    "target_base_acc": "models.target_base.acc",
    "target_lora_acc": "models.target_lora.acc",
    "diff_vs_base": "comparisons.transferred_vs_target_base.diff",
    "p_vs_base": "comparisons.transferred_vs_target_base.p_value",
    "recovery": "recovery.estimate",
    "coverage": "transfer.coverage",
}


def dvc_executable() -> str:
    """`dvc` from PATH; else the one installed beside this Python (the project's virtual environment)."""
    found = shutil.which("dvc") or shutil.which("dvc", path=str(Path(sys.executable).parent))
    if not found:
        raise PawError("dvc: not found on PATH — expected DVC installed (run `make install`, or activate .venv)")
    return found


def run_exp_show(repo_dir: str | Path = ".") -> Any:
    """The parsed output of `dvc exp show --json` in `repo_dir`."""
    command = [dvc_executable(), "exp", "show", "--json"]
    try:
        done = subprocess.run(command, cwd=repo_dir, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise PawError(f"{command[0]}: could not run ({exc.strerror})") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise PawError(f"dvc exp show in {Path(repo_dir).resolve()}: failed ({last})")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise PawError(f"dvc exp show --json: output is not JSON ({exc.msg})") from None


def lookup(tree: Any, dotted: str) -> Any:
    """tree['a']['b'] for 'a.b'; None where any level is missing or not a mapping."""
    node = tree
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _records(entries: Any) -> Iterator[tuple[Mapping[str, Any], str]]:
    """(revision record, state) for every commit and experiment in the JSON, depth first."""
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping):
            continue
        yield entry, "error" if entry.get("error") else "done"
        for experiment in entry.get("experiments") or []:
            if not isinstance(experiment, Mapping):
                continue
            executor = experiment.get("executor")
            state = executor.get("state") if isinstance(executor, Mapping) else None
            for rev in experiment.get("revs") or []:
                if isinstance(rev, Mapping):
                    yield from (
                        (record, state or ("error" if record.get("error") else "done"))
                        for record, _ in _records([rev])
                    )


def _param_value(data: Mapping[str, Any], param: str) -> Any:
    files = data.get("params") if isinstance(data.get("params"), Mapping) else {}
    ordered = sorted(files, key=lambda name: name != "params.yaml")  # params.yaml first
    for name in ordered:
        value = lookup(files[name], f"data.{param}")
        if value is not None:
            return value
    return None


def _summary_metrics(data: Mapping[str, Any], summary_file: str) -> Mapping[str, Any] | None:
    files = data.get("metrics") if isinstance(data.get("metrics"), Mapping) else {}
    for name, content in files.items():
        if Path(name).as_posix().lstrip("./") == summary_file and isinstance(content, Mapping):
            found = content.get("data")
            return found if isinstance(found, Mapping) else None
    return None


def parse_exp_show(entries: Any, param: str = "transfer.threshold", summary_file: str = SUMMARY_FILE) -> list[dict]:
    """Rows {name, rev, state, <param>, transferred_acc, …, coverage} from `dvc exp show --json`.

    The workspace entry is left out: it repeats the last applied experiment or holds uncommitted results.
    Each revision appears once. Rows are sorted by the parameter (rows without it last).
    """
    if not isinstance(entries, list):
        raise PawError(f"dvc exp show --json: expected a list of revisions, got {type(entries).__name__}")
    rows, seen = [], set()
    for record, state in _records(entries):
        rev = record.get("rev")
        if rev in (None, "workspace") or rev in seen:
            continue
        seen.add(rev)
        data = record.get("data") if isinstance(record.get("data"), Mapping) else {}
        metrics = _summary_metrics(data, summary_file)
        row = {"name": record.get("name") or str(rev)[:7], "rev": str(rev)[:7],
               "state": state if metrics is not None or state != "done" else "no metrics",
               param: _param_value(data, param)}
        for column, key in METRIC_COLUMNS.items():
            value = lookup(metrics, key) if metrics is not None else None
            row[column] = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        rows.append(row)
    numeric = [r for r in rows if isinstance(r[param], (int, float))]
    others = [r for r in rows if not isinstance(r[param], (int, float))]
    return sorted(numeric, key=lambda r: r[param]) + others


def sweep_markdown(rows: list[dict], param: str) -> str:
    headers = ["experiment", "rev", "state", param, *METRIC_COLUMNS]
    body = [[r["name"], r["rev"], r["state"], r[param], *(_cell(r[c]) for c in METRIC_COLUMNS)] for r in rows]
    table = tabulate(body, headers=headers, tablefmt="github")
    charted = sum(r["transferred_acc"] is not None and isinstance(r[param], (int, float)) for r in rows)
    return "\n".join([
        f"# Sweep over `{param}`",
        "",
        f"{len(rows)} revisions from `dvc exp show`, {charted} with a finished report. Accuracies are on the same "
        "items within each row; compare rows through their difference from the target base and its p-value.",
        "",
        table,
        "",
        "![transferred accuracy and coverage](sweep.png)",
        "",
    ])


def sweep_csv(rows: list[dict], param: str) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["name", "rev", "state", param, *METRIC_COLUMNS], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _cell(value: Any) -> str:
    return "—" if value is None else f"{value:.4g}"


def write_sweep(rows: list[dict], param: str, out_dir: str | Path = "reports") -> None:
    from paw.reporting.charts import sweep_chart

    if not rows:
        raise PawError("dvc exp show: no commits or experiments found — expected at least one `dvc exp run`")
    out_dir = Path(out_dir)
    sweep_chart(rows, param, out_dir / "sweep.png")
    for name, text in (("sweep.md", sweep_markdown(rows, param)), ("sweep.csv", sweep_csv(rows, param))):
        with atomic_file(out_dir / name) as handle:
            handle.write(text)


def build_sweep(repo_dir: str | Path = ".", param: str = "transfer.threshold", out_dir: str | Path = "reports") -> list:
    """Read the experiments of the repository at `repo_dir` and write sweep.{md,csv,png} under `out_dir`."""
    rows = parse_exp_show(run_exp_show(repo_dir), param)
    write_sweep(rows, param, Path(repo_dir) / out_dir)
    return rows
