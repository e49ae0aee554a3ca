"""`paw toy build` on the command line: builds one step, reports bad params as one line."""

from __future__ import annotations

import shutil
from pathlib import Path

from paw.cli import main

REPO_PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


def test_build_corpus_step_from_the_cli(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    shutil.copy(REPO_PARAMS, params)
    data = str(tmp_path / "d")
    code = main(["toy", "build", "--only", "corpus", "--seed", "3", "--params", str(params), "--data-dir", data])
    assert code == 0
    assert (tmp_path / "d" / "test.jsonl").is_file() and (tmp_path / "d" / "tokenizer" / "tokenizer.json").is_file()
    assert '"test_questions"' in capsys.readouterr().out


def test_bad_params_exit_2_with_one_line(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(REPO_PARAMS.read_text().replace("toy:\n", "toy:\n  colour: red\n", 1))
    code = main(["toy", "build", "--params", str(params), "--data-dir", str(tmp_path / "d")])
    assert code == 2
    err = capsys.readouterr().err
    assert "toy.colour is not a known key" in err and "Traceback" not in err
    assert not (tmp_path / "d").exists()
