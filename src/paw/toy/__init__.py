"""The embedded toy world the `quick` environment runs on: a synthetic corpus of facts about invented entities,
its tokenizer, four toy bases (source, sibling, grown, independent) and ARC-schema questions about the facts.

`paw.toy.build.build_world(toy, models_dir, data_dir)` builds everything; `build_corpus` / `build_base` /
`measure_base` there are the steps. This package module imports nothing, so reading params (which imports
`paw.toy.params`) pulls in no builder.
"""
