"""The embedded toy world the `quick` environment runs on: a synthetic corpus of facts about invented entities,
its tokenizer, four toy bases (source, sibling, grown, independent) and ARC-schema questions about the facts.

`build_world(toy, models_dir, data_dir)` builds everything; `build_corpus` / `build_base` / `measure_base` are the
steps, for pipelines that run them as separate stages. torch and transformers load only inside the builders.
"""

from paw.toy.build import BASES, build_base, build_corpus, build_world, measure_base, model_name

__all__ = ["BASES", "build_base", "build_corpus", "build_world", "measure_base", "model_name"]
