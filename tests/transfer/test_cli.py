"""`paw transfer` flags: errors name the flag that gave the value, the probe flags reach the method's options, and a
.jsonl probe file holds multi-line prompts."""

from __future__ import annotations

import argparse
import json

import pytest

from paw.cli import run_guarded
from paw.transfer.probe import read_probe_file


def paw_transfer(*argv) -> int:
    from paw.cli import transfer

    parser = argparse.ArgumentParser(prog="paw")
    transfer.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["transfer", *map(str, argv)])
    return run_guarded(lambda: args.func(args))


@pytest.fixture
def common(tiny_llama, tiny_gemma2, adapters):
    return ["--source-model", tiny_llama, "--source-adapter", adapters["llama"], "--target-model", tiny_gemma2,
            "--svd-rank", 8]


@pytest.mark.parametrize("extra,message", [
    (["--method", "copy"], "error: --method copy needs identical module shapes, but"),
    (["--threshold", "3"], r"error: --threshold 3.0 — expected a number in [0, 1]"),
    (["--method", "activation", "--ridge", "-1"], "error: --ridge -1.0 — expected a non-negative number"),
    (["--method", "aligned", "--max-positions", "64"], "error: --max-positions: --method aligned has no option "
                                                       "max_positions"),
    (["--method", "activation"], "error: --method activation needs probe text here: pass --probe-file FILE"),
    (["--method", "activation", "--probe-file", "nowhere.txt"], "error: --probe-file nowhere.txt — file not found"),
])  # fmt: skip
def test_errors_name_the_flag(extra, message, common, tmp_path, capsys):
    assert paw_transfer(*common, *extra, "--out", tmp_path / "o") == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()


def _jsonl_probe(path, n=24):
    with path.open("w") as f:
        for i in range(n):
            f.write(json.dumps({"text": f"Question: what is the {i} thing?\nAnswer: the {i % 5} one", "id": i}) + "\n")
    return path


def test_jsonl_probe_keeps_multi_line_texts(tmp_path):
    texts = read_probe_file(_jsonl_probe(tmp_path / "p.jsonl", n=3))
    assert texts[1] == "Question: what is the 1 thing?\nAnswer: the 1 one" and len(texts) == 3
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n["no"]\n')
    with pytest.raises(Exception, match=r"line 2 is not a JSON object with a string \"text\" field"):
        read_probe_file(tmp_path / "bad.jsonl")


def test_probe_flags_reach_the_activation_options(common, tmp_path, capsys):
    probe = _jsonl_probe(tmp_path / "probe.jsonl")
    code = paw_transfer(*common, "--method", "activation", "--probe-file", probe, "--probe-size", 16,
                        "--max-positions", 96, "--ridge", 0.01, "--dtype", "float32", "--threshold", 0,
                        "--out", tmp_path / "o")
    assert code == 0, capsys.readouterr().err
    diagnostics = json.loads((tmp_path / "o" / "diagnostics.json").read_text())
    assert {k: diagnostics["options"][k] for k in ("probe_size", "max_positions", "ridge")} == {
        "probe_size": 16, "max_positions": 96, "ridge": 0.01}
    assert diagnostics["method_diagnostics"]["paired_positions"] <= 96


def test_the_old_rank_flag_still_works_with_a_deprecation_line(tiny_llama, adapters, tmp_path, capsys):
    common = ["--source-model", tiny_llama, "--source-adapter", adapters["llama"], "--target-model", tiny_llama,
              "--method", "copy"]
    assert paw_transfer(*common, "--rank", 8, "--out", tmp_path / "old") == 0
    assert "--rank is deprecated — use --svd-rank" in capsys.readouterr().err
    assert paw_transfer(*common, "--rank", 8, "--svd-rank", 8, "--out", tmp_path / "both") == 2
    assert "--rank and --svd-rank are both given" in capsys.readouterr().err
    assert not (tmp_path / "both").exists()
