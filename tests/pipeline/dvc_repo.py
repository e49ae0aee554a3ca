"""A throw-away copy of this project as its own git + DVC repository, shrunk so the whole pipeline runs in about a
minute: a smaller toy world, a few training steps. Used by the workflow tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from tests.conftest import REPO_ROOT

# Keys whose values measure the machine (time, memory) or the run's history (where a training resumed), not the
# model: they differ between two runs that produce the same results.
VOLATILE = ("seconds", "per_second", "peak_ram_mb", "peak_gpu_mb", "resumed_from_step")

SHRINK = {
    "toy": {
        "n_entities": 60, "hidden_size": 32, "num_layers": 2, "num_heads": 2, "seq_len": 32,
        "source_steps": 40, "sibling_steps": 10, "grown_steps": 5, "independent_steps": 40,
    },
    "envs": {"quick": {"max_steps": 12, "train_batch_size": 8, "eval_batch_size": 64}},
    "train": {"val_every_n_steps": 6, "val_samples": 8, "checkpoint_every_n_steps": 4, "log_every_n_steps": 4},
    "transfer": {"svd_rank": 8},
    "report": {"bootstrap_samples": 200},
}


def merge_into(node: dict, changes: dict) -> None:
    """Apply nested `changes` to a params tree in place (new keys and sections are created)."""
    for key, value in changes.items():
        if isinstance(value, dict):
            merge_into(node.setdefault(key, {}), value)
        else:
            node[key] = value


def env() -> dict[str, str]:
    """The venv's bin first on PATH: stage commands call `python`, the queue calls `dvc`."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def run(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=repo, env=env(), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def make_repo(dest: Path, shrink: dict | None = SHRINK) -> Path:
    """Copy the project's files (what git would track) into `dest`, shrink params (unless None), commit."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for rel in listed:
        source = REPO_ROOT / rel
        if not source.is_file() or rel.startswith(("reports/", "data/toy")) or rel == "dvc.lock":
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    if shrink:
        shrink_params(dest / "params.yaml", shrink)
    run(dest, "git", "init", "-q", "-b", "main")
    run(dest, "git", "add", "-A")
    run(dest, "git", "commit", "-qm", "project")
    return dest


def shrink_params(path: Path, changes: dict) -> None:
    yaml = YAML()
    data = yaml.load(path.read_text())
    merge_into(data, changes)
    with path.open("w") as handle:
        yaml.dump(data, handle)


def stages_run(output: str) -> set[str]:
    """Names of the stages DVC says it ran ("Running stage 'x':")."""
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")}


def stable(value):
    """Metrics without the keys that measure the machine (time, memory)."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if not any(mark in k for mark in VOLATILE)}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def all_metrics(repo: Path) -> dict[str, object]:
    files = sorted((repo / "reports").rglob("*.json"))
    return {str(f.relative_to(repo)): stable(json.loads(f.read_text())) for f in files if "dvclive" not in f.parts}


def copy_repo(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest, symlinks=True)
    return dest
