"""Two CPU processes (Lightning Fabric, gloo) give the single-process metrics and predictions: slow (spawn)."""

from __future__ import annotations

import json

import pytest

from paw.evaluation.api import evaluate


@pytest.mark.slow
def test_two_processes_match_one(tiny_qwen2, benchmarks_dir, tmp_path):
    kwargs = dict(data_path=benchmarks_dir / "arc_challenge", max_samples=25, progress=False)
    one = evaluate(tiny_qwen2, None, "arc-challenge", tmp_path / "one", **kwargs)
    two = evaluate(tiny_qwen2, None, "arc-challenge", tmp_path / "two", devices=2, **kwargs)
    for key in ("n", "acc", "acc_stderr", "acc_norm", "acc_norm_stderr"):
        assert one[key] == two[key]
    lines = [
        [json.loads(line) for line in (tmp_path / name / "predictions.jsonl").read_text().splitlines()]
        for name in ("one", "two")
    ]
    assert [p["id"] for p in lines[0]] == [p["id"] for p in lines[1]]
    for a, b in zip(*lines, strict=True):
        assert (a["pred"], a["pred_norm"], a["gold"]) == (b["pred"], b["pred_norm"], b["gold"])
        # Different batch shapes round differently in float32; the values agree far below any decision margin.
        assert a["ll"] == pytest.approx(b["ll"], abs=1e-4)
