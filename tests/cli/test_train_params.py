"""`paw train` says which params file and env are in force, and `--params none` ignores ./params.yaml."""

from __future__ import annotations

from paw.cli import main
from tests.params_files import write_params



def _train(tmp_path, *extra):
    # The model directory does not exist: the run stops right after the params line, before loading anything.
    return main(["train", "--model", str(tmp_path / "no-model"), "--dataset", "arc-challenge",
                 "--out", str(tmp_path / "o"), *extra])


def test_a_params_file_in_the_current_directory_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_params(tmp_path / "params.yaml", env="quick")
    assert _train(tmp_path) == 2
    first, error = capsys.readouterr().err.strip().splitlines()
    assert first == "params: params.yaml (env quick)" and "model directory not found" in error


def test_params_none_ignores_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("env: broken\n")  # would fail if read
    assert _train(tmp_path, "--params", "none") == 2
    assert capsys.readouterr().err.splitlines()[0] == "params: none (built-in defaults)"


def test_no_params_file_means_the_defaults_and_a_missing_one_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert _train(tmp_path) == 2
    assert capsys.readouterr().err.splitlines()[0] == "params: none (built-in defaults)"
    assert _train(tmp_path, "--params", "typo.yaml") == 2
    assert capsys.readouterr().err.strip() == ("paw: error: --params typo.yaml: file not found — expected a params "
                                               "file, or none for the built-in defaults")
