"""`EvalSpec`: one record of an evaluation's settings, from params or flags, checked before anything runs."""

from __future__ import annotations

import dataclasses

import pytest

from paw.config import load_params
from paw.errors import PawError
from paw.evaluation.spec import EvalSpec
from tests.conftest import REPO_ROOT


def test_from_params_takes_the_selected_envs_settings():
    params = load_params(REPO_ROOT / "params.yaml", {"env": "real", "envs.real.data_path": "rows"})
    spec = EvalSpec.from_params(params)
    assert (spec.task, spec.data_path, spec.prompt_style) == ("arc-easy", "rows", "cloze")
    assert (spec.sample_ratio, spec.max_samples, spec.batch_size, spec.devices) == (1.0, 300, 8, 1)
    assert (spec.dtype, spec.seed, spec.trust_remote_code) == ("float32", 0, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.batch_size = 1


@pytest.mark.parametrize("field,value,message", [
    ("batch_size", 0, "batch_size = 0 — expected a positive integer"),
    ("devices", True, "devices = True — expected a positive integer"),
    ("prompt_style", "mcq", "prompt_style = 'mcq' — expected cloze or letter"),
    ("dtype", "int8", "dtype = 'int8' — expected one of float32, bfloat16, float16, auto"),
])
def test_a_bad_value_is_refused_when_the_spec_is_built(field, value, message):
    with pytest.raises(PawError, match=message):
        EvalSpec(task="arc-easy", **{field: value})
