"""The `paw` command: help without heavy imports, user errors as one line with exit 2, --debug for tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from paw.cli import SUBCOMMANDS, main, run_guarded
from paw.errors import PawError


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_help_does_not_import_torch():
    code = "import sys; from paw.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_user_error_is_one_line_and_exit_2(capsys):
    def fail():
        raise PawError("params.yaml: x = 1 — expected 2")

    assert run_guarded(fail) == 2
    err = capsys.readouterr().err
    assert err == "paw: error: params.yaml: x = 1 — expected 2\n"


def test_debug_shows_the_traceback(capsys):
    def fail():
        raise PawError("boom")

    assert run_guarded(fail, debug=True) == 2
    assert "Traceback" in capsys.readouterr().err


def test_console_script_reports_bad_input_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "paw.cli", "models", "import-gguf", str(tmp_path / "x.gguf"), "--out", str(tmp_path / "o")],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "GGUF file not found" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_gpu_out_of_memory_becomes_advice(capsys):
    import torch

    def fail():
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    assert run_guarded(fail) == 2
    err = capsys.readouterr().err
    assert "out of memory" in err and "train_batch_size" in err and "grad_accum" in err
    assert "Traceback" not in err


def test_other_bugs_keep_their_traceback():
    def fail():
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        run_guarded(fail)


def test_cpu_allocation_failure_gets_the_out_of_memory_advice(capsys):
    from paw.cli import run_guarded

    def allocate():
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:121] DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 25769803776 bytes")

    assert run_guarded(allocate) == 2
    assert "out of memory (CPU RAM or GPU)" in capsys.readouterr().err
