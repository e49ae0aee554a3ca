"""The real-model environments resolve into the whole pipeline: every stage's params exist in each block, and
`dvc repro --dry` lists every stage for `real-quick` and `real` (the models themselves come from `make real-models`)."""

from __future__ import annotations

import pytest

from paw.config import load_params
from paw.models.catalog import REAL_MODELS
from tests.conftest import REPO_ROOT

REAL_ENVS = ("real-quick", "real")


@pytest.mark.parametrize("env", REAL_ENVS)
def test_real_envs_name_catalog_models_and_load(env):
    params = load_params(REPO_ROOT / "params.yaml").replace(env=env)
    assert params.profile.source_model in REAL_MODELS and params.profile.target_model in REAL_MODELS
    assert params.profile.models_dir == "models"


def test_the_real_env_names_its_task_style_and_metric():
    params = load_params(REPO_ROOT / "params.yaml").replace(env="real")
    assert params.prompt_style == "cloze" and params.dataset == "arc-easy" and params.report_metric == "acc_norm"


def test_every_stage_param_of_the_env_blocks_exists_in_each_real_env():
    """DVC refuses a stage whose `envs.${env}.<key>` is missing from the selected block."""
    import yaml

    from tests.pipeline.dvc_yaml import resolved_stages

    raw = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    prefix = f"envs.{raw['env']}."  # resolved for the committed env; every env block has the same keys
    keys = {entry.removeprefix(prefix) for stage in resolved_stages().values()
            for entry in stage.get("params") or [] if isinstance(entry, str) and entry.startswith(prefix)}
    assert {"prompt_style", "report_metric", "source_model", "target_model", "max_steps"} <= keys
    for env in (*REAL_ENVS, "quick", "local", "server"):
        assert keys <= set(raw["envs"][env]), (env, keys - set(raw["envs"][env]))
