"""Pipeline timings on this machine: a full `dvc repro` of the quick environment (seconds per stage), a no-op
`dvc repro` against bare DVC on a 2-stage pipeline (the baseline, measured in the same run), and a threshold-only
experiment against the full run.

    .venv/bin/python -m benchmarks.pipeline_timing            # full quick world (several minutes)
    .venv/bin/python -m benchmarks.pipeline_timing --shrunk   # the test suite's shrunk world (about a minute)
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from tests.pipeline.dvc_repo import SHRINK, env, make_repo


def timed_repro(repo: Path, *args: str) -> tuple[float, dict[str, float]]:
    """Wall time of a DVC command and, per stage, seconds from its "Running stage" line to the next one."""
    start = time.perf_counter()
    process = subprocess.Popen(("dvc", *args), cwd=repo, env=env(), stdout=subprocess.PIPE, text=True)
    stages: dict[str, float] = {}
    current, since = None, start
    for line in process.stdout:
        if line.startswith("Running stage '"):
            now = time.perf_counter()
            if current:
                stages[current] = now - since
            current, since = line.split("'")[1], now
    if process.wait() != 0:
        raise SystemExit(f"dvc {' '.join(args)} failed in {repo}")
    end = time.perf_counter()
    if current:
        stages[current] = end - since
    return end - start, stages


def bare_dvc_noop(root: Path) -> float:
    repo = root / "bare"
    repo.mkdir()
    for cmd in (["git", "init", "-q"], ["dvc", "init", "-q"]):
        subprocess.run(cmd, cwd=repo, env=env(), check=True)
    (repo / "dvc.yaml").write_text(
        "stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n"
        "  b:\n    cmd: cat a.txt > b.txt\n    deps: [a.txt]\n    outs: [b.txt]\n"
    )
    timed_repro(repo, "repro")
    return min(timed_repro(repo, "repro")[0] for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shrunk", action="store_true", help="use the test suite's shrunk toy world")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = make_repo(root / "paw", shrink=SHRINK if args.shrunk else None)
        full, stages = timed_repro(repo, "repro")
        print(f"full dvc repro ({'shrunk' if args.shrunk else 'quick'}): {full:.1f} s")
        for name, seconds in stages.items():
            print(f"  {name:<20} {seconds:7.1f} s")
        noop = min(timed_repro(repo, "repro")[0] for _ in range(3))
        bare = bare_dvc_noop(root)
        print(f"no-op dvc repro: {noop:.2f} s; bare DVC 2-stage no-op: {bare:.2f} s; ratio {noop / bare:.2f}")
        subprocess.run(["git", "add", "-A"], cwd=repo, env=env(), check=True)
        subprocess.run(["git", "commit", "-qm", "run"], cwd=repo, env=env(), check=True)
        experiment, exp_stages = timed_repro(repo, "exp", "run", "-S", "transfer.threshold=1e-3")
        print(f"threshold-only experiment: {experiment:.1f} s ({', '.join(exp_stages)}); "
              f"{experiment / full:.2f} of the full run")


if __name__ == "__main__":
    main()
