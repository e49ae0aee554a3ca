"""The transfer stage's selection from a saved carry leaves the adapter and its control in models/transfer and the
diagnostics in reports/transfer, beside the carry's cost, which it keeps."""

from __future__ import annotations

import json

import pytest

from paw.config import load_params
from paw.errors import PawError
from paw.pipeline.transfer import select_carried

from tests.conftest import REPO_ROOT

MODULES = ("model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.q_proj")


@pytest.fixture
def carried_dir(tmp_path):
    """A carry of two modules (similarity 0.5 and 0.01) of a 2-layer target, without any model."""
    import torch

    from paw.transfer.carried import Carried, write_carried

    generator = torch.Generator().manual_seed(0)
    weights = {path: (torch.randn(2, 8, generator=generator), torch.randn(8, 2, generator=generator))
               for path in MODULES}
    records = [{"target_module": path, "kind": "q_proj", "source_layer": layer, "target_layer": layer,
                "similarity": similarity, "carried": True}
               for layer, (path, similarity) in enumerate(zip(MODULES, (0.5, 0.01)))]
    summary = {"seed": 0, "method": "aligned", "method_summary": "a test carry", "source_model": "toy-source",
               "target_model": "toy-grown", "rank": 4, "layer_map": "depth"}
    write_carried(tmp_path / "carried", Carried(records=records, weights=weights, summary=summary, r=2, alpha=4.0,
                                                target_model="toy-grown", target_layers=2))
    return tmp_path / "carried"


def test_adapter_and_control_stay_in_the_cache_and_diagnostics_go_to_reports(carried_dir, tmp_path):
    params = load_params(REPO_ROOT / "params.yaml", overrides={"transfer.threshold": 0.1})
    out, reports = tmp_path / "models" / "transfer", tmp_path / "reports" / "transfer"
    reports.mkdir(parents=True)
    (reports / "carry.json").write_text('{"seconds": 3.0}')
    diagnostics = select_carried(params, carried_dir, {"seconds": 3.0}, out, reports)
    assert sorted(p.name for p in out.iterdir()) == ["adapter", "control"]
    assert sorted(p.name for p in reports.iterdir()) == ["carry.json", "diagnostics.json", "diagnostics.md"]
    assert json.loads((reports / "diagnostics.json").read_text()) == json.loads(json.dumps(diagnostics))
    assert diagnostics["threshold"] == 0.1 and diagnostics["totals"]["modules_kept"] == 1
    assert diagnostics["totals"]["carry_seconds"] == 3.0
    assert "Kept 1 of 2 modules" in (reports / "diagnostics.md").read_text()


def test_a_threshold_that_keeps_nothing_writes_nothing(carried_dir, tmp_path):
    params = load_params(REPO_ROOT / "params.yaml", overrides={"transfer.threshold": 0.9})
    with pytest.raises(PawError, match="no module was transferred"):
        select_carried(params, carried_dir, {}, tmp_path / "out", tmp_path / "reports")
    assert not (tmp_path / "out").exists() and not (tmp_path / "reports" / "diagnostics.json").exists()
