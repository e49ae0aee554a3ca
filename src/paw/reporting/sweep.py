"""`paw report sweep`: the transferred adapter's accuracy and coverage against one swept parameter.

Reads the experiments through `dvc.api.exp_show` and writes reports/sweep.{md,csv,png}: one row per commit or
experiment, sorted by the parameter. `parse_exp_show` takes those rows or the JSON of `dvc exp show --json` and
walks them defensively — queued, running or failed experiments have no metrics (or an error in place of them) and
are listed with their state but not charted.
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
    """The parsed output of `dvc exp show --json` in `repo_dir` (DVC from PATH): nested, typed records for the
    scripts that walk them (the benchmarks); the sweep itself reads `read_experiments`."""
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


def read_experiments(repo_dir: str | Path = ".") -> list[dict]:
    """The commit and experiments of `repo_dir` as `dvc.api.exp_show` lists them: one flat row per revision.

    The baseline's `rev` is resolved to its commit (exp_show gives its branch name there), the name moved to
    `Experiment`, so each row names its revision the way `dvc exp show --json` does."""
    import dvc.api
    from dvc.exceptions import DvcException
    from dvc.scm import SCM

    where = Path(repo_dir).resolve()
    try:
        rows = dvc.api.exp_show(repo=str(where))
        scm = SCM(str(where))
        for row in rows:
            if row.get("typ") == "baseline" and row.get("rev") not in (None, "workspace"):
                commit = scm.resolve_rev(row["rev"])
                if not commit.startswith(row["rev"]):
                    row["Experiment"] = row["rev"]
                row["rev"] = commit
    except DvcException as exc:
        raise PawError(f"dvc exp show in {where}: failed ({exc}) — expected a Git repository with DVC "
                       "initialised (git init && dvc init)") from None
    return rows


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
        if _same_file(name, summary_file) and isinstance(content, Mapping):
            found = content.get("data")
            return found if isinstance(found, Mapping) else None
    return None


def _same_file(name: str, wanted: str) -> bool:
    return Path(name).as_posix().lstrip("./") == wanted


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _nested_revisions(entries: list, param: str, summary_file: str) -> Iterator[tuple[Any, Any, str, Any, dict]]:
    """(rev, name, state, parameter, {column: value}) from `dvc exp show --json`."""
    for record, state in _records(entries):
        data = record.get("data") if isinstance(record.get("data"), Mapping) else {}
        metrics = _summary_metrics(data, summary_file)
        values = {column: _number(lookup(metrics, key)) for column, key in METRIC_COLUMNS.items()}
        if metrics is None and state == "done":
            state = "no metrics"
        yield record.get("rev"), record.get("name"), state, _param_value(data, param), values


def _flat_revisions(entries: list, param: str, summary_file: str) -> Iterator[tuple[Any, Any, str, Any, dict]]:
    """The same from `dvc.api.exp_show` rows: keys are dotted names, prefixed with their file ("file:name") where
    two files share a name; numbers come as floats, and a file that could not be read as "!"."""
    for row in entries:
        if not isinstance(row, Mapping):
            continue
        summary = {}
        for key, value in row.items():
            path, _, name = str(key).rpartition(":")
            if path and _same_file(path, summary_file):
                summary[name] = value
        values = {column: _number(summary.get(key, row.get(key))) for column, key in METRIC_COLUMNS.items()}
        state = str(row["State"]).lower() if row.get("State") else "error" if row.get("Created") is None else "done"
        if state == "done" and all(v is None for v in values.values()):
            state = "no metrics"
        value = row.get(f"params.yaml:{param}", row.get(param))
        yield row.get("rev"), row.get("Experiment"), state, value, values


def parse_exp_show(entries: Any, param: str = "transfer.threshold", summary_file: str = SUMMARY_FILE) -> list[dict]:
    """Rows {name, rev, state, <param>, transferred_acc, …, coverage} from `dvc.api.exp_show` (see
    `read_experiments`) or from `dvc exp show --json`.

    The workspace entry is left out: it repeats the last applied experiment or holds uncommitted results.
    Each revision appears once. Rows are sorted by the parameter (rows without it last).
    """
    if not isinstance(entries, list):
        raise PawError(f"dvc exp show --json: expected a list of revisions, got {type(entries).__name__}")
    flat = any(isinstance(entry, Mapping) and "typ" in entry for entry in entries)
    revisions = (_flat_revisions if flat else _nested_revisions)(entries, param, summary_file)
    rows, seen = [], set()
    for rev, name, state, value, metrics in revisions:
        if rev in (None, "workspace") or rev in seen:
            continue
        seen.add(rev)
        rows.append({"name": name or str(rev)[:7], "rev": str(rev)[:7], "state": state, param: value, **metrics})
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
    rows = parse_exp_show(read_experiments(repo_dir), param)
    write_sweep(rows, param, Path(repo_dir) / out_dir)
    return rows
