"""GGUF import: bad files are refused clearly; the real Gemma 3 270M converts to a working safetensors model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from paw.errors import PawError
from paw.io import read_json
from paw.models import load_model, load_tokenizer
from paw.models.gguf import import_gguf, record_added_tokens
from tests.tiny_models import train_tokenizer


def test_missing_and_non_gguf_files(tmp_path):
    with pytest.raises(PawError, match="GGUF file not found"):
        import_gguf(tmp_path / "none.gguf", tmp_path / "out")
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"PK\x03\x04not a gguf")
    with pytest.raises(PawError, match="not a GGUF file"):
        import_gguf(bogus, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_added_tokens_recorded_load_the_same_tokenizer_with_one_parse_less(tmp_path, monkeypatch):
    """transformers 5 saves tokenizer_config.json without the added tokens and then parses tokenizer.json twice on
    every load; with them recorded (the hub's layout) it parses it once and builds the same tokenizer."""
    import json

    from transformers import AutoTokenizer

    train_tokenizer(tmp_path, vocab_size=300, seed=0, add_bos=True)
    assert "added_tokens_decoder" not in read_json(tmp_path / "tokenizer_config.json")
    parses = []
    original = json.load

    def counting(handle, *args, **kwargs):
        parses.append(Path(getattr(handle, "name", "")).name)
        return original(handle, *args, **kwargs)

    monkeypatch.setattr(json, "load", counting)
    before = AutoTokenizer.from_pretrained(tmp_path)
    parses_before, parses[:] = parses.count("tokenizer.json"), []
    assert record_added_tokens(tmp_path)
    after = AutoTokenizer.from_pretrained(tmp_path)
    assert parses.count("tokenizer.json") == parses_before - 1
    assert after.backend_tokenizer.to_str() == before.backend_tokenizer.to_str()
    assert after.added_tokens_decoder == before.added_tokens_decoder and len(after.added_tokens_decoder) == 3
    assert after.special_tokens_map == before.special_tokens_map
    text = "What is the red river? the old horse"
    assert after(text).input_ids == before(text).input_ids and after(text).input_ids[0] == after.bos_token_id
    assert not record_added_tokens(tmp_path)  # already recorded: the file is left as it is
    assert not record_added_tokens(tmp_path / "missing")


@pytest.mark.slow
def test_converted_gemma3_is_a_real_pretrained_model(gemma3_dir):
    """The dir `make models/gemma-3-270m` builds with `paw models import-gguf`: safetensors, 262k vocab, knows facts."""
    assert (gemma3_dir / "model.safetensors").is_file()
    model, tokenizer = load_model(gemma3_dir), load_tokenizer(gemma3_dir)
    assert model.config.vocab_size == 262144 and model.config.num_hidden_layers == 18
    assert len(read_json(gemma3_dir / "tokenizer_config.json")["added_tokens_decoder"]) == len(
        tokenizer.added_tokens_decoder)
    ids = tokenizer("Water freezes at", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=5, do_sample=False)
    assert "32" in tokenizer.decode(out[0, ids.input_ids.shape[1]:])
