"""The experiment workflows users run, on a shrunk copy of this project in a temporary git + DVC repository."""

from __future__ import annotations

import json
import shutil

import pytest

from paw.reporting.sweep import parse_exp_show

from tests.pipeline.dvc_repo import all_metrics, copy_repo, make_repo, run, shrink_params, stages_run

pytestmark = pytest.mark.slow

ALL_STAGES = {
    "toy", "decompose@source", "decompose@target", "train@source", "train@target", "carry", "transfer",
    "eval@source_base", "eval@source_lora", "eval@target_base", "eval@transferred", "eval@control",
    "eval@target_lora", "report",
}
# A threshold only selects among the carried modules: the carry (both bases, maps, probe activations) is reused.
AFTER_TRANSFER = {"transfer", "eval@transferred", "eval@control", "report"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The shrunk project after one full `dvc repro`, committed (dvc.lock and metrics in git)."""
    repo = make_repo(tmp_path_factory.mktemp("pipeline") / "repo")
    result = run(repo, "dvc", "repro")
    assert stages_run(result.stdout) == ALL_STAGES
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "first run")
    return repo


def test_full_run_writes_the_report_and_a_second_run_does_nothing(built):
    summary = json.loads((built / "reports/summary.json").read_text())
    assert summary  # the report stage wrote real numbers (its own tests check their content)
    assert (built / "reports/summary.md").read_text().count("transferred") >= 1
    again = run(built, "dvc", "repro")
    assert stages_run(again.stdout) == set()
    assert "up to date" in run(built, "dvc", "status").stdout


def _median_similarity(repo) -> float:
    modules = json.loads((repo / "reports/transfer/diagnostics.json").read_text())["modules"]
    values = sorted(m["similarity"] for m in modules if m["similarity"] is not None)
    return values[len(values) // 2]


def test_threshold_experiment_reruns_only_the_transfer_and_what_follows(built, tmp_path):
    repo = copy_repo(built, tmp_path / "repo")
    # A threshold that drops some modules: the adapter changes, so both of its evaluations rerun.
    threshold = _median_similarity(built)
    result = run(repo, "dvc", "exp", "run", "-S", f"transfer.threshold={threshold}")
    assert stages_run(result.stdout) == AFTER_TRANSFER
    rows = parse_exp_show(json.loads(run(repo, "dvc", "exp", "show", "--json").stdout), "transfer.threshold")
    shown = {row["transfer.threshold"]: row for row in rows}
    assert set(shown) == {1.0e-4, threshold}  # the baseline commit and the experiment, each with its metrics
    assert all(row["transferred_acc"] is not None for row in rows)
    assert shown[threshold]["coverage"] < shown[1.0e-4]["coverage"]


def test_threshold_that_drops_nothing_skips_the_evaluations(built, tmp_path):
    """DVC compares outputs: an identical adapter does not trigger its evaluations again."""
    repo = copy_repo(built, tmp_path / "repo")
    result = run(repo, "dvc", "exp", "run", "-S", "transfer.threshold=1e-3")
    assert stages_run(result.stdout) == {"transfer", "report"}


def test_method_change_reruns_only_the_transfer_and_what_follows(built, tmp_path):
    repo = copy_repo(built, tmp_path / "repo")
    result = run(repo, "dvc", "exp", "run", "-S", "transfer.method=cross_lora")
    assert stages_run(result.stdout) == {"carry"} | AFTER_TRANSFER


def test_switching_env_makes_only_model_dependent_stages_stale(built, tmp_path):
    repo = copy_repo(built, tmp_path / "repo")
    # A `local` block pointing at copies of the toy bases, so the switch is real but needs no download.
    models = tmp_path / "local-models"
    for name in ("toy-source", "toy-grown"):
        shutil.copytree(repo / "models" / name, models / name)
    shrink_params(repo / "params.yaml", {"envs": {"local": {
        "models_dir": str(models), "source_model": "toy-source", "target_model": "toy-grown",
        "dataset": "toy-facts", "data_path": "data/toy", "lr": 2.0e-3, "max_steps": 12, "train_batch_size": 8,
        "eval_sample_ratio": 1.0, "precision": "32",
    }}})
    assert json.loads(run(repo, "dvc", "status", "--json").stdout) == {}  # the quick stages do not read `local`
    shrink_params(repo / "params.yaml", {"env": "local"})
    stale = set(json.loads(run(repo, "dvc", "status", "--json").stdout))
    # `dvc status` lists the stages whose own inputs changed; `transfer` reads only the carry and the threshold,
    # so it reruns after `carry` without being stale itself.
    assert stale == ALL_STAGES - {"toy", "transfer"}


@pytest.mark.parametrize("env", ["real-quick", "real"])
def test_dvc_repro_dry_resolves_for_the_real_envs(built, tmp_path, env):
    """Switching to a real-model env (models from `make real-models`) resolves: every model stage would rerun."""
    repo = copy_repo(built, tmp_path / "repo")
    shrink_params(repo / "params.yaml", {"env": env})
    # A dry run runs nothing, so `carry` keeps its old outputs and `transfer`, which reads only those and the
    # threshold, does not look stale; a real run reruns it after `carry` (test_switching_env_... above).
    assert stages_run(run(repo, "dvc", "repro", "--dry").stdout) == ALL_STAGES - {"toy", "transfer"}


def test_metrics_diff_between_branches_shows_the_accuracy_change(built, tmp_path):
    repo = copy_repo(built, tmp_path / "repo")
    run(repo, "git", "checkout", "-qb", "cross-lora")
    shrink_params(repo / "params.yaml", {"transfer": {"method": "cross_lora"}})
    run(repo, "dvc", "repro")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "cross_lora")
    diff = run(repo, "dvc", "metrics", "diff", "main", "cross-lora", "--json").stdout
    changed = json.loads(diff)
    assert "reports/eval/transferred/metrics.json" in changed
    assert "acc" in changed["reports/eval/transferred/metrics.json"]


def test_run_cache_moves_results_between_machines(built, tmp_path):
    remote = tmp_path / "remote"
    workstation = copy_repo(built, tmp_path / "workstation")
    run(workstation, "dvc", "remote", "add", "-d", "shared", str(remote))
    run(workstation, "git", "commit", "-qam", "remote")
    run(workstation, "dvc", "push", "--run-cache")
    server = tmp_path / "server"
    run(tmp_path, "git", "clone", "-q", str(workstation), str(server))
    run(server, "dvc", "pull", "--run-cache")
    result = run(server, "dvc", "repro")
    assert stages_run(result.stdout) == set()
    assert run(server, "dvc", "metrics", "show", "--json").stdout == run(workstation, "dvc", "metrics", "show",
                                                                            "--json").stdout


def test_queued_threshold_sweep_and_sweep_report(built, tmp_path):
    repo = copy_repo(built, tmp_path / "repo")
    run(repo, "dvc", "exp", "run", "--queue", "-S", "transfer.threshold=1e-4,1e-2,1e-1")
    run(repo, "dvc", "exp", "run", "--run-all")
    rows = parse_exp_show(json.loads(run(repo, "dvc", "exp", "show", "--json").stdout), "transfer.threshold")
    assert {0.01, 0.1} <= {row["transfer.threshold"] for row in rows if row["transferred_acc"] is not None}
    run(repo, "paw", "report", "sweep", "--param", "transfer.threshold")
    sweep = (repo / "reports" / "sweep.md").read_text()
    assert "0.1" in sweep and "0.01" in sweep


def test_another_seed_changes_the_metrics(built, tmp_path):
    """(The same seed giving identical metrics is shown by the killed-and-resumed full rerun below.)"""
    repo = copy_repo(built, tmp_path / "repo")
    result = run(repo, "dvc", "exp", "run", "-S", "seed=1", "eval@source_lora")
    assert stages_run(result.stdout) == {"train@source", "eval@source_lora"}
    changed = all_metrics(repo)["reports/eval/source_lora/metrics.json"]
    assert changed != all_metrics(built)["reports/eval/source_lora/metrics.json"]


def test_killed_run_resumes_to_the_same_metrics(built, tmp_path):
    """SIGKILL the whole `dvc repro -f` once training has written a checkpoint; a second `dvc repro` finishes the
    job and every metric equals the first run's — a second full run with the same seed, bit for bit."""
    import os
    import signal
    import subprocess
    import time

    from tests.pipeline.dvc_repo import env

    repo = copy_repo(built, tmp_path / "repo")
    checkpoint = repo / "models" / "checkpoints" / "source" / "last.ckpt"
    assert not checkpoint.parent.exists()  # the first run finished: it left no checkpoint behind
    process = subprocess.Popen(["dvc", "repro", "-f"], cwd=repo, env=env(), start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    run(repo, "dvc", "repro")
    assert all_metrics(repo) == all_metrics(built)
