# `make run` starts the whole platform on 127.0.0.1; `make test` runs lint, types and every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint unit integration e2e bench format clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m devstack up

test: $(STAMP) lint
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy app.py chalicelib devstack tests benchmarks

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

unit: $(STAMP)
	$(PY) -m pytest -m unit

integration: $(STAMP)
	$(PY) -m pytest -m integration

e2e: $(STAMP)
	$(PY) -m pytest -m e2e

bench: $(STAMP)
	$(PY) benchmarks/api_latency.py

clean:
	rm -rf $(VENV) .devstack .pytest_cache .mypy_cache .ruff_cache
