"""A value given on the command line is named by its flag in errors; one from params.yaml keeps its key."""

from __future__ import annotations

import pytest

from paw.cli import main
from paw.config.origins import given_flags
from paw.errors import PawError
from tests.params_files import write_params

ORIGINS = given_flags(
    {"max_steps": 0, "lr": None, "method": "copy", "rank": 4, "sample_ratio": 0.0},
    {"max_steps": "envs.quick.max_steps", "lr": "envs.quick.lr", "method": "transfer.method",
     "rank": "transfer.svd_rank", "sample_ratio": "sample_ratio"},
)


@pytest.mark.parametrize("message,expected", [
    ("params.yaml: envs.quick.max_steps = 0 — expected a positive integer", "--max-steps 0 — expected a positive integer"),
    ("transfer.method = copy needs identical module shapes", "--method copy needs identical module shapes"),
    ("transfer.method = 'copy' — expected one of a, b", "--method 'copy' — expected one of a, b"),
    ("sample_ratio = 0.0 — expected a number in (0, 1]", "--sample-ratio 0.0 — expected a number in (0, 1]"),
    # Not given by a flag (lr), another key ending alike, a recorded value that is not the flag's: unchanged.
    ("params.yaml: envs.quick.lr = 0 — expected a positive number", None),
    ("params.yaml: eval.sample_ratio = 0.0 — expected a number in (0, 1]", None),
    ("svd: computed with transfer.svd_rank = 8, but transfer.svd_rank = 4 — rerun",
     "svd: computed with transfer.svd_rank = 8, but --rank 4 — rerun"),
])  # fmt: skip
def test_rewrite_names_the_flag_only_for_values_a_flag_gave(message, expected):
    assert ORIGINS.rewrite(message) == (expected or message)


def test_errors_raised_inside_are_rewritten():
    with pytest.raises(PawError, match=r"^--max-steps 0 — expected"):
        with ORIGINS.named_in_errors():
            raise PawError("params.yaml: envs.quick.max_steps = 0 — expected a positive integer")


@pytest.mark.parametrize("with_file", [False, True])
def test_paw_train_names_the_flag_whether_or_not_there_is_a_params_file(with_file, tmp_path, capsys):
    params = tmp_path / "params.yaml"
    if with_file:
        write_params(params, env="quick")
    code = main(["train", "--model", str(tmp_path / "m"), "--dataset", "arc-challenge", "--out", str(tmp_path / "o"),
                 "--max-steps", "0", "--params", str(params) if with_file else "none"])
    assert code == 2
    assert capsys.readouterr().err.strip().endswith("error: --max-steps 0 — expected a positive integer")
    assert not (tmp_path / "o").exists()
