"""Building the toy world: byte-identical for a seed, loadable by paw.models, growth preserves the function."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paw.errors import PawError
from tests.toy.conftest import build_tiny, tiny_toy

BASES = ("toy-source", "toy-sibling", "toy-grown", "toy-independent")


def _files(root: Path) -> dict[str, bytes]:
    """Every output file, world.json included (it records no timings)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tiny_world, tmp_path):
    build_tiny(tmp_path / "again")
    first, again = _files(tiny_world), _files(tmp_path / "again")
    assert first.keys() == again.keys()
    assert [name for name in first if first[name] != again[name]] == []
    build_tiny(tmp_path / "other", seed=1)
    other = _files(tmp_path / "other")
    assert other["data/test.jsonl"] != first["data/test.jsonl"]
    assert other["models/toy-source/model.safetensors"] != first["models/toy-source/model.safetensors"]


def test_outputs_and_summary(tiny_world):
    for split in ("train", "validation", "test"):
        assert (tiny_world / "data" / f"{split}.jsonl").stat().st_size > 0
    summary = json.loads((tiny_world / "data" / "world.json").read_text())
    assert set(summary["bases"]) == set(BASES)
    for info in summary["bases"].values():
        assert 0 <= info["cloze_accuracy"] <= 1 and 0 <= info["question_accuracy"] <= 1
    assert summary["data"]["test_questions"] == sum(1 for _ in open(tiny_world / "data" / "test.jsonl"))
    growth = json.loads((tiny_world / "models" / "toy-grown" / "growth.json").read_text())
    assert growth["layers"] == {"0": 0, "1": 1}


def test_models_and_shared_tokenizer_load_through_paw_models(tiny_world):
    from paw.models import load_model, load_tokenizer

    vocabularies, encodings = [], []
    for name in BASES:
        model_dir = tiny_world / "models" / name
        tokenizer = load_tokenizer(model_dir)
        model = load_model(model_dir)
        assert model.config.vocab_size == len(tokenizer)
        assert tokenizer("The x")["input_ids"][0] == tokenizer.bos_token_id
        vocabularies.append(tokenizer.get_vocab())
        encodings.append(tokenizer("The zix lives in magim.\nQuestion: Where?\nAnswer: x")["input_ids"])
    assert all(v == vocabularies[0] for v in vocabularies)
    assert all(e == encodings[0] for e in encodings)
    types = {name: load_model(tiny_world / "models" / name).config for name in BASES}
    assert types["toy-independent"].model_type == "qwen2"
    grown, source = types["toy-grown"], types["toy-source"]
    assert grown.hidden_size == 2 * source.hidden_size
    assert grown.num_key_value_heads < grown.num_attention_heads
    assert grown.num_hidden_layers > source.num_hidden_layers


def test_growth_preserves_the_function_before_drift(tiny_world):
    import torch

    from paw.models import load_model, load_tokenizer
    from paw.toy.architectures import grown_config
    from paw.toy.grow import grow_model

    source_dir = tiny_world / "models" / "toy-source"
    source, tokenizer = load_model(source_dir), load_tokenizer(source_dir)
    grown = grow_model(source, grown_config(tiny_toy(grown_extra_layers=2), tokenizer), seed=5)
    ids = torch.tensor([tokenizer("The cat and the dog walk together. Question: what?\nAnswer:")["input_ids"]])
    with torch.no_grad():
        expected, actual = source(ids).logits, grown(ids).logits
    assert torch.allclose(actual, expected, atol=1e-5, rtol=1e-4)
    # the copies are not identical halves, so further training moves them apart
    q = grown.model.layers[0].self_attn.q_proj.weight
    half = q.shape[1] // 2
    assert not torch.allclose(q[:, :half], q[:, half:])


def test_missing_source_for_sibling_is_a_clear_error(tiny_world, tmp_path):
    from paw.toy.build import build_base

    with pytest.raises(PawError, match="toy-source: toy base not found"):
        build_base("sibling", tiny_toy(), models_dir=tmp_path / "none", data_dir=tiny_world / "data")


def test_missing_corpus_is_a_clear_error(tmp_path):
    from paw.toy.build import build_base

    with pytest.raises(PawError, match="toy corpus not found"):
        build_base("source", tiny_toy(), models_dir=tmp_path / "m", data_dir=tmp_path / "nothing")


def test_bad_toy_param_names_the_key(tmp_path):
    from paw.config import load_params

    repo_params = Path(__file__).resolve().parents[2] / "params.yaml"
    with pytest.raises(PawError, match=r"toy\.pool_size = 3 — expected an integer >= 4"):
        load_params(repo_params, overrides={"toy.pool_size": 3})
