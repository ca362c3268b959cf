# Two commands on a fresh machine: `make run` (server + web chat on seeds/) and `make test`.
PYTHON ?= python3
# The CPU build from PyTorch's CPU wheel index, tried first (5 s); without it, the configured index.
# For CUDA: make clean setup TORCH_INDEX=https://download.pytorch.org/whl/cu128 (or TORCH_INDEX= for PyPI's).
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
EXTRAS ?= dev
VENV := .venv
BIN := $(VENV)/bin
comma := ,
# One stamp per set of extras, so `make setup EXTRAS=dev,scale` after a plain set-up adds [scale].
STAMP := $(VENV)/.installed-$(subst $(comma),+,$(EXTRAS))
FAST_MARKERS := -m "not e2e and not slow and not browser and not llm"
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test test-fast lint ingest clean

# Python 3.11+ check, CPU torch first, then '.[$(EXTRAS)]' pinned and hash-checked by requirements.lock.
$(STAMP): pyproject.toml requirements.lock scripts/setup_venv.sh scripts/install_torch.sh
	PYTHON='$(PYTHON)' VENV='$(VENV)' STAMP='$(STAMP)' EXTRAS='$(EXTRAS)' TORCH_SPEC='$(TORCH_SPEC)' TORCH_INDEX='$(TORCH_INDEX)' \
		bash scripts/setup_venv.sh

setup: $(STAMP)

# make run PORT=8100 HOST=0.0.0.0: the address to serve on (default QA_HOST/QA_PORT: 127.0.0.1:8000).
HOST ?=
PORT ?=
run: $(STAMP)
	$(BIN)/qa serve $(if $(HOST),--host '$(HOST)') $(if $(PORT),--port '$(PORT)')

test: $(STAMP)
	$(BIN)/python -m pytest

# The README's fast subset: no real model, browser, slow hardening, Ray/Qdrant/Redis or LLM server.
test-fast: $(STAMP)
	$(BIN)/python -m pytest $(FAST_MARKERS)

lint: $(STAMP)
	$(BIN)/ruff check qa api tests
	$(BIN)/mypy

ingest: $(STAMP)
	$(BIN)/qa ingest

clean:
	rm -rf $(VENV) embeddings data .pytest_cache
