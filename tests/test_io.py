"""Atomic outputs honour the umask: weights written through safetensors' own temporary file (0600) end up with the
same modes as the config files beside them."""

from __future__ import annotations

import os
import stat

import pytest

from paw.io import atomic_dir, atomic_file


@pytest.fixture(params=[0o022, 0o002], ids=["umask022", "umask002"])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_every_file_and_dir_of_an_atomic_dir_follows_the_umask(umask, tmp_path):
    import torch
    from safetensors.torch import save_file

    from paw.models.adapters import write_adapter

    out = tmp_path / "model"
    with atomic_dir(out) as tmp:
        save_file({"w": torch.zeros(2)}, str(tmp / "model.safetensors"))
        (tmp / "config.json").write_text("{}")
        write_adapter(tmp / "adapter", {"model.layers.0.self_attn.q_proj": (torch.zeros(2, 4), torch.zeros(4, 2))},
                      2, 4.0, "base")
        (tmp / "run.sh").write_text("#!/bin/sh\n")
        os.chmod(tmp / "run.sh", 0o700)
    files = 0o666 & ~umask
    assert _mode(out) == _mode(out / "adapter") == 0o777 & ~umask
    for name in ("model.safetensors", "config.json", "adapter/adapter_model.safetensors", "adapter/adapter_config.json"):
        assert _mode(out / name) == files, name
    assert _mode(out / "run.sh") == 0o777 & ~umask


def test_atomic_file_follows_the_umask(umask, tmp_path):
    with atomic_file(tmp_path / "a.json") as handle:
        handle.write("{}")
    assert _mode(tmp_path / "a.json") == 0o666 & ~umask
