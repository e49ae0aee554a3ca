"""A saved carry plus a threshold gives exactly what a whole transfer with that threshold gives, without loading a
base model; a bad carried directory or threshold is refused before anything is written."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from paw.errors import PawError
from paw.transfer.api import run_transfer, transfer_from_carried
from paw.transfer.carried import FACTORS, META

THRESHOLDS = (0.0, 0.22, 0.26)


def _tensors(out, name="adapter"):
    return load_file(str(out / name / "adapter_model.safetensors"))


def _without_cost(diagnostics: dict) -> dict:
    totals = {k: v for k, v in diagnostics["totals"].items() if "seconds" not in k and "peak" not in k}
    return {**diagnostics, "totals": totals}


@pytest.fixture(scope="module")
def carried(tiny_llama, llama_sibling, adapters, tmp_path_factory):
    root = tmp_path_factory.mktemp("carried")
    run_transfer(tiny_llama, adapters["llama"], llama_sibling, root / "first", method="aligned", svd_rank=16,
                 threshold=0.0, carried_dir=root / "carried")
    return root / "carried"


@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_selection_from_a_saved_carry_equals_a_whole_transfer(threshold, carried, tiny_llama, llama_sibling,
                                                              adapters, tmp_path, monkeypatch):
    whole = run_transfer(tiny_llama, adapters["llama"], llama_sibling, tmp_path / "whole", method="aligned",
                         svd_rank=16, threshold=threshold)
    import paw.models
    import paw.transfer.bases

    for module in (paw.models, paw.transfer.bases):  # the package's name and the one the transfer calls
        monkeypatch.setattr(module, "load_model", lambda *a, **k: pytest.fail("a base model was loaded"))
    selected = transfer_from_carried(carried, tmp_path / "selected", threshold=threshold)
    assert _without_cost(selected) == _without_cost(whole)
    for name in ("adapter", "control"):
        a, b = _tensors(tmp_path / "whole", name), _tensors(tmp_path / "selected", name)
        assert a.keys() == b.keys(), name
        assert all(torch.equal(a[k], b[k]) for k in a)
    config = lambda out: json.loads((out / "adapter" / "adapter_config.json").read_text())  # noqa: E731
    assert config(tmp_path / "whole") == config(tmp_path / "selected")
    assert selected["totals"]["carry_seconds"] is None  # the carry's cost is unknown unless passed in


def test_the_thresholds_cut_through_the_carried_modules(carried, tmp_path):
    kept = [transfer_from_carried(carried, tmp_path / str(t), threshold=t)["totals"]["modules_kept"]
            for t in THRESHOLDS]
    assert kept == sorted(kept, reverse=True) and len(set(kept)) == len(kept)


def test_bad_carried_directory_is_refused(carried, tmp_path):
    with pytest.raises(PawError, match=f"not a carried transfer — expected {META} and {FACTORS}"):
        transfer_from_carried(tmp_path / "missing", tmp_path / "out")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / META).write_text((carried / META).read_text())
    (broken / FACTORS).write_bytes(b"not safetensors")
    with pytest.raises(PawError, match="not a readable safetensors file"):
        transfer_from_carried(broken, tmp_path / "out")
    with pytest.raises(PawError, match=r"transfer.threshold = 1.5 — expected a number in \[0, 1\]"):
        transfer_from_carried(carried, tmp_path / "out", threshold=1.5)
    with pytest.raises(PawError, match="no module was transferred"):
        transfer_from_carried(carried, tmp_path / "out", threshold=1.0)
    assert not (tmp_path / "out").exists()
