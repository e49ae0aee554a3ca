"""A threshold that cannot act is said in words, and updates outside the sane band are warned about and flagged."""

from __future__ import annotations

import json

from paw.transfer.sanity import suspicious_modules, threshold_applies

from tests.transfer.conftest import make_adapter
from tests.transfer.test_cli import paw_transfer


def _record(path, ratio, size, kept=True):
    return {"target_module": path, "kept": kept, "norm_ratio": ratio, "update_size": size, "similarity": None}


def test_bands_flag_far_smaller_or_larger_updates_and_weight_rewrites():
    flagged = suspicious_modules([
        _record("ok", 1.1, 0.02), _record("shrunk", 0.1, 0.01), _record("grown", 6.0, 0.1),
        _record("rewrite", 1.0, 0.8), _record("skipped", 9.0, 2.0, kept=False), _record("unknown", None, None),
    ])  # fmt: skip
    assert [f["target_module"] for f in flagged] == ["shrunk", "grown", "rewrite"]
    assert flagged[0]["problem"] == "norm ratio 0.1 outside [0.25, 4]"
    assert flagged[2]["problem"] == "update size ‖ΔW‖/‖W‖ 0.8 above 0.5"
    assert not threshold_applies([_record("a", 1, 0.1)])


def test_cross_lora_says_the_threshold_does_not_apply(tiny_llama, tiny_gemma2, tmp_path, capsys):
    adapter = make_adapter(tiny_llama, tmp_path / "small", strength=0.01, seed=3)
    assert paw_transfer("--source-model", tiny_llama, "--source-adapter", adapter, "--target-model", tiny_gemma2,
                        "--method", "cross_lora", "--svd-rank", 8, "--out", tmp_path / "o") == 0
    out = capsys.readouterr().out
    assert "None" not in out
    assert "similarity not scored by cross_lora, so the threshold does not apply" in out
    md = (tmp_path / "o" / "diagnostics.md").read_text()
    assert "does not apply: cross_lora scores no similarity" in md and "on similarity (0..1" not in md
    assert json.loads((tmp_path / "o" / "diagnostics.json").read_text())["threshold_applies"] is False


def test_large_updates_are_warned_about_and_flagged(tiny_llama, llama_sibling, tmp_path, capsys):
    big = make_adapter(tiny_llama, tmp_path / "big", strength=1.0, seed=4)  # ‖ΔW‖ = ‖W‖: rewrites every weight
    small = make_adapter(tiny_llama, tmp_path / "small", strength=0.01, seed=4)
    common = ["--source-model", tiny_llama, "--target-model", llama_sibling, "--method", "copy", "--svd-rank", 8]
    assert paw_transfer(*common, "--source-adapter", big, "--out", tmp_path / "big_out") == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "update size ‖ΔW‖/‖W‖" in err and "norm_rescale" in err and err.count("\n") == 1
    diagnostics = json.loads((tmp_path / "big_out" / "diagnostics.json").read_text())
    assert diagnostics["totals"]["suspicious_modules"] == len(diagnostics["suspicious"]) > 0
    assert "## Suspicious updates" in (tmp_path / "big_out" / "diagnostics.md").read_text()
    assert paw_transfer(*common, "--source-adapter", small, "--out", tmp_path / "small_out") == 0
    assert "warning" not in capsys.readouterr().err
    assert "## Suspicious updates" not in (tmp_path / "small_out" / "diagnostics.md").read_text()
