"""`TransferSpec`: a transfer's settings, from params.yaml or keywords, checked once before any base is read."""

from __future__ import annotations

import pytest

from paw.errors import PawError
from paw.transfer.spec import TransferSpec


def test_from_params_reads_the_transfer_section_and_the_run(tmp_path):
    from paw.config import load_params
    from tests.conftest import REPO_ROOT

    params = load_params(REPO_ROOT / "params.yaml", {"transfer.method": "activation", "transfer.svd_rank": 32,
                                                     "transfer.threshold": 0.01, "transfer.activation.probe_size": 9,
                                                     "models.dtype": "bfloat16", "seed": 3})
    spec = TransferSpec.from_params(params)
    assert (spec.method, spec.svd_rank, spec.threshold, spec.dtype, spec.seed) == ("activation", 32, 0.01,
                                                                                   "bfloat16", 3)
    assert spec.chosen().options.probe_size == 9
    assert spec.chosen() is not spec.chosen()  # one fresh method instance per run: it keeps that run's state


@pytest.mark.parametrize(("fields", "message"), [
    ({"svd_rank": 0}, r"transfer\.svd_rank = 0 — expected a positive integer"),
    ({"svd_rank": True}, r"transfer\.svd_rank = True — expected a positive integer"),
    ({"threshold": 1.5}, r"transfer\.threshold = 1\.5 — expected a number in \[0, 1\]"),
    ({"method": "alinged"}, r"aligned"),
    ({"options": {"aligned": {"ridge": -1}}}, r"transfer\.aligned\.ridge = -1"),
    ({"options": {"nonsense": {}}}, r"transfer\.nonsense is not a known key"),
    ({"dtype": "float8"}, r"float8"),
])
def test_a_bad_value_is_refused_when_the_spec_is_made(fields, message):
    with pytest.raises(PawError, match=message):
        TransferSpec(**fields)


def test_run_transfer_takes_a_spec_or_its_fields_not_both(tmp_path):
    from paw.transfer.api import run_transfer

    with pytest.raises(TypeError, match="a spec and its fields"):
        run_transfer("s", "a", "t", tmp_path / "out", TransferSpec(), method="copy")
    with pytest.raises(PawError, match="svd_rank"):  # fields are checked before any path is read
        run_transfer("missing-source", "missing-adapter", "missing-target", tmp_path / "out", svd_rank=-1)
    assert not (tmp_path / "out").exists()
