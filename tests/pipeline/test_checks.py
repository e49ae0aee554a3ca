"""Params that would make the pipeline's comparison meaningless are refused before any work."""

from __future__ import annotations

import pytest

from paw.config import load_params
from paw.errors import PawError
from paw.pipeline.checks import check_consistency
from paw.pipeline.transfer import check_transfer
from paw.pipeline.layout import base_model_dir

from tests.conftest import REPO_ROOT

PARAMS = REPO_ROOT / "params.yaml"


def test_committed_params_are_consistent():
    check_consistency(load_params(PARAMS))


def test_prompt_style_must_match_between_training_and_evaluation():
    params = load_params(PARAMS, overrides={"train.prompt_style": "letter"})
    with pytest.raises(PawError, match="train.prompt_style = 'letter' but eval.prompt_style = 'cloze'"):
        check_consistency(params)


def test_pipeline_needs_the_control():
    with pytest.raises(PawError, match="transfer.control = false"):
        check_transfer(load_params(PARAMS, overrides={"transfer.control": False}))


def test_unknown_method_lists_the_known_ones():
    check_transfer(load_params(PARAMS))
    with pytest.raises(PawError, match="transfer.method = 'magic' — expected one of .*cross_lora"):
        check_transfer(load_params(PARAMS, overrides={"transfer.method": "magic"}))


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(PawError, match="arc-challenge"):
        check_consistency(load_params(PARAMS, overrides={"data.dataset": "mmlu", "envs.quick.dataset": None}))


def test_missing_model_says_where_it_looked_and_how_to_fix(tmp_path):
    params = load_params(PARAMS, overrides={"envs.quick.models_dir": str(tmp_path)})
    with pytest.raises(PawError, match=rf"{tmp_path}/toy-source: model directory not found .*models_dir"):
        base_model_dir(params, "source")
