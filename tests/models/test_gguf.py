"""GGUF import: bad files are refused clearly; the real Gemma 3 270M converts to a working safetensors model."""

from __future__ import annotations

import pytest
import torch

from paw.errors import PawError
from paw.models import load_model, load_tokenizer
from paw.models.gguf import import_gguf


def test_missing_and_non_gguf_files(tmp_path):
    with pytest.raises(PawError, match="GGUF file not found"):
        import_gguf(tmp_path / "none.gguf", tmp_path / "out")
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"PK\x03\x04not a gguf")
    with pytest.raises(PawError, match="not a GGUF file"):
        import_gguf(bogus, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_converted_gemma3_is_a_real_pretrained_model(gemma3_dir):
    """The dir `make models/gemma-3-270m` builds with `paw models import-gguf`: safetensors, 262k vocab, knows facts."""
    assert (gemma3_dir / "model.safetensors").is_file()
    model, tokenizer = load_model(gemma3_dir), load_tokenizer(gemma3_dir)
    assert model.config.vocab_size == 262144 and model.config.num_hidden_layers == 18
    ids = tokenizer("Water freezes at", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=5, do_sample=False)
    assert "32" in tokenizer.decode(out[0, ids.input_ids.shape[1]:])
