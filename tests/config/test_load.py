"""params.yaml parsing: every documented key parses, bad values give one error naming the key and what was expected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paw.config import ToyParams, load_params, parse_params
from paw.config.load import read_yaml
from paw.errors import PawError

from tests.conftest import REPO_ROOT

PARAMS = REPO_ROOT / "params.yaml"


@pytest.fixture()
def raw():
    return read_yaml(PARAMS)


def test_committed_params_parse_with_quick_default():
    params = load_params(PARAMS)
    assert params.env == "quick"
    assert params.profile.source_model == "toy-source"
    assert params.dataset == "toy-facts"  # the quick block overrides the shared dataset


def test_the_written_toy_world_is_the_embedded_one(raw):
    # `quick` is the embedded default: a world built without params.yaml (ToyParams()) must be the one it describes
    assert parse_params(raw).toy == ToyParams()


@pytest.mark.parametrize("env", ["quick", "local", "server"])
def test_every_environment_resolves(env):
    params = load_params(PARAMS, overrides={"env": env})
    assert params.profile is params.envs[env]
    assert params.lr > 0


def test_original_project_values():
    local = load_params(PARAMS, overrides={"env": "local"})
    assert local.profile.models_dir == "../autodl-tmp/models"
    assert (local.profile.source_model, local.profile.target_model) == ("gemma-2-2b-it", "Qwen_Qwen2.5-1.5B")
    assert (local.profile.train_batch_size, local.profile.max_steps, local.profile.eval_sample_ratio) == (4, 200, 0.05)
    server = load_params(PARAMS, overrides={"env": "server"})
    assert server.profile.target_model == "Qwen2.5-7B-Instruct" and server.profile.devices == 4
    assert (server.lr, server.lora.r, server.lora.alpha, server.transfer.threshold) == (1.0e-5, 16, 32.0, 1.0e-4)
    assert server.dataset == "arc-challenge"


def _documented_keys(text: str) -> list[str]:
    """Dotted paths of the leaf keys written in params.yaml, for the check that each carries a comment."""
    keys, stack = [], []
    for line in text.splitlines():
        match = re.match(r"^(\s*)([A-Za-z_][\w-]*):(.*)$", line)
        if not match:
            continue
        depth = len(match[1]) // 2
        stack = stack[:depth] + [match[2]]
        value = match[3].split("#")[0].strip()
        if value:
            keys.append((".".join(stack), "#" in match[3] or "#" in line))
    return keys


def test_every_value_carries_a_comment():
    text = PARAMS.read_text()
    missing = [key for key, commented in _documented_keys(text) if not commented]
    assert not missing, f"params.yaml values without a comment: {missing}"


def test_yaml_1_2_floats(tmp_path, raw):
    text = PARAMS.read_text().replace("threshold: 1.0e-4", "threshold: 1e-3")
    (tmp_path / "params.yaml").write_text(text)
    assert load_params(tmp_path / "params.yaml").transfer.threshold == pytest.approx(1e-3)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"envs.quick.eval_sample_ratio": 0}, r"envs\.quick\.eval_sample_ratio = 0 — expected a number in \(0, 1\]"),
        ({"envs.quick.eval_sample_ratio": 1.5}, r"eval_sample_ratio = 1\.5 — expected a number in \(0, 1\]"),
        ({"env": "laptop"}, r"env = 'laptop' — expected the name of a block under envs \(local, quick, real, real-quick, server\)"),
        ({"train.lr": "fast"}, r"train\.lr = 'fast' — expected a number"),
        ({"train.lr": 0}, r"train\.lr = 0 — expected a number in \(0, 1\]"),
        ({"train.lrate": 1}, r"train\.lrate is not a known key — expected one of .*lr"),
        ({"lora.r": 2.5}, r"lora\.r = 2\.5 — expected a positive integer"),
        ({"lora.r": True}, r"lora\.r = True — expected a positive integer"),
        ({"transfer.threshold": 2}, r"transfer\.threshold = 2 — expected a number in \[0, 1\]"),
        ({"transfer.svd_rank": 0}, r"transfer\.svd_rank = 0 — expected a positive integer"),
        ({"eval.prompt_style": "chat"}, r"eval\.prompt_style = 'chat' — expected cloze or letter"),
        ({"models.trust_remote_code": "yes"}, r"models\.trust_remote_code = 'yes' — expected true or false"),
        ({"lora.target_modules": "q_proj"}, r"lora\.target_modules = 'q_proj' — expected a list"),
        ({"envs.quick.precision": "64"}, r"envs\.quick\.precision = '64' — expected one of 32, bf16-mixed"),
    ],
)
def test_bad_values_name_the_key(override, message):
    with pytest.raises(PawError, match=message):
        load_params(PARAMS, overrides=override)


def test_missing_required_env_key(raw):
    del raw["envs"]["quick"]["max_steps"]
    with pytest.raises(PawError, match=r"envs\.quick\.max_steps = \(missing\) — expected a positive integer"):
        parse_params(raw)


def test_section_must_be_a_mapping(raw):
    raw["train"] = [1, 2]
    with pytest.raises(PawError, match=r"train = \[1, 2\] — expected a mapping"):
        parse_params(raw)


def test_transfer_method_blocks_are_gathered(raw):
    raw["transfer"]["activation"] = {"ridge": 0.1}
    assert parse_params(raw).transfer.options["activation"] == {"ridge": 0.1}


def test_params_are_frozen():
    params = load_params(PARAMS)
    with pytest.raises(AttributeError):
        params.train.lr = 1.0  # type: ignore[misc]


def test_missing_or_invalid_file(tmp_path: Path):
    with pytest.raises(PawError, match="params file not found"):
        load_params(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("env: [unclosed\n")
    with pytest.raises(PawError, match="not valid YAML"):
        load_params(tmp_path / "params.yaml")


def test_the_svd_ranks_old_name_is_read_for_now_with_a_deprecation_line(capsys):
    raw = read_yaml(REPO_ROOT / "params.yaml")
    raw["transfer"]["rank"] = raw["transfer"].pop("svd_rank") // 8
    assert parse_params(raw).transfer.svd_rank == 8
    assert "transfer.rank is deprecated — rename it transfer.svd_rank" in capsys.readouterr().err
    raw["transfer"]["svd_rank"] = 8
    with pytest.raises(PawError, match=r"transfer\.rank and transfer\.svd_rank are both set"):
        parse_params(raw)
