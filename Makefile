# customslab — the two commands that matter are `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make demo PORT=8080` (or HOST=0.0.0.0 to be reached from other machines).
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: demo test lint typecheck pytest install screenshots bench-install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/customslab demo --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	scripts/ensure-postgres.sh
	scripts/ensure-chromium.sh
	$(BIN)/pytest

test: lint typecheck pytest

screenshots: $(STAMP)
	scripts/ensure-chromium.sh
	scripts/ensure-cjk-fonts.sh
	$(BIN)/customslab screenshots --out docs/screenshots

bench-install: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var
