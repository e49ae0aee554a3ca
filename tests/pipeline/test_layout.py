"""dvc.yaml and the library agree on every path, and each stage declares what it reads."""

from __future__ import annotations

import yaml

from paw.pipeline.layout import (
    CARRIED_DIR,
    CARRY_COST,
    EVAL_RUNS,
    TRANSFER_DIR,
    adapter_dir,
    eval_dir,
    svd_dir,
    train_report_dir,
)

from tests.conftest import REPO_ROOT
from tests.pipeline.dvc_yaml import paths, resolved_stages, written_stages

DVC = written_stages()


def test_every_evaluation_has_a_stage_with_its_adapter_as_a_dependency():
    assert list(DVC["eval"]["foreach"]) == list(EVAL_RUNS)
    stages = resolved_stages()
    env = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())["env"]
    for name, run in EVAL_RUNS.items():
        stage = stages[f"eval@{name}"]
        assert stage["cmd"] == f"python stages/eval.py {name}"
        assert f"{eval_dir(name)}/metrics.json" in paths(stage["metrics"])
        assert f"{eval_dir(name)}/predictions.jsonl" in paths(stage["outs"])
        if run.adapter is not None:
            assert str(run.adapter) in stage["deps"]
        else:  # a bare base does not wait for (or rerun after) any training or transfer
            assert not [dep for dep in stage["deps"] if dep.startswith("models/")], name
        assert f"envs.{env}.{run.role}_model" in stage["params"]
        other = "target" if run.role == "source" else "source"
        assert f"envs.{env}.{other}_model" not in stage["params"]


def test_training_and_transferpaths():
    train = DVC["train"]["do"]
    assert str(adapter_dir("${item}")) in paths(train["outs"])
    assert f"{train_report_dir('${item}')}/metrics.json" in paths(train["metrics"])
    carry, transfer = DVC["carry"], DVC["transfer"]
    assert {str(adapter_dir("source")), str(svd_dir("source")), str(svd_dir("target"))} <= set(carry["deps"])
    assert str(CARRIED_DIR) in paths(carry["outs"]) and str(CARRY_COST) in paths(carry["metrics"])
    assert {str(CARRIED_DIR), str(CARRY_COST)} <= set(transfer["deps"])
    assert {str(TRANSFER_DIR / "adapter"), str(TRANSFER_DIR / "control")} <= paths(transfer["outs"])


def test_the_carry_stage_reads_no_threshold_and_every_method_option_block():
    """A threshold change must not rerun the carry, and a change of any method's options must."""
    import dataclasses

    from paw.transfer.registry import get_method, known_methods

    carry = set(DVC["carry"]["params"])
    assert not {"transfer", "transfer.threshold", "transfer.control"} & carry
    with_options = {m for m in known_methods() if dataclasses.fields(get_method(m).options)}
    assert {"transfer.method", "transfer.svd_rank", *(f"transfer.{m}" for m in with_options)} <= carry
    assert {"transfer.threshold", "transfer.control"} <= set(DVC["transfer"]["params"])


def test_stage_scripts_exist_and_are_declared_as_deps():
    for name, stage in DVC.items():
        body = stage.get("do", stage)
        script = body["cmd"].split()[1]
        assert (REPO_ROOT / script).is_file(), name
        assert script in body["deps"], name


def test_metrics_and_plots_live_in_git():
    for stage in DVC.values():
        body = stage.get("do", stage)
        for entry in (body.get("metrics") or []) + (body.get("plots") or []):
            (path, options), = entry.items()
            assert options["cache"] is False, path
            assert path.startswith("reports/"), path
