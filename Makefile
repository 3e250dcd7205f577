# `make run` starts the whole platform on 127.0.0.1; `make test` runs lint, types and every test.
PYTHON ?= python3
STACK ?= videoplane
CDK ?= $(VENV)/bin/npx --yes aws-cdk@2.1148.1
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint unit integration e2e bench format clean synth bootstrap deploy destroy rotate-keys

$(STAMP): requirements.txt requirements-dev.txt infra/requirements.txt
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
	$(PY) -m mypy app.py chalicelib devstack infra tests benchmarks
	$(VENV)/bin/lint-imports

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
	$(PY) -m benchmarks.api_latency
	$(PY) -m benchmarks.api_load
	$(PY) -m benchmarks.webhook_fanout
	$(PY) benchmarks/cold_start.py
	$(PY) -m benchmarks.time_to_playable
	$(PY) -m benchmarks.playback_startup
	$(PY) -m benchmarks.edge_check
	$(PY) -m benchmarks.rooms
	$(PY) -m benchmarks.live_latency
	$(PY) -m benchmarks.live_failover
	$(PY) -m benchmarks.live_health_push
	$(PY) -m benchmarks.live_incidents
	$(PY) -m benchmarks.analytics

synth: $(STAMP)
	$(PY) -m infra.synth -c videoplane:stackName=$(STACK)

bootstrap: $(STAMP)
	$(CDK) bootstrap

deploy: synth
	$(CDK) deploy --app cdk.out --require-approval broadening Videoplane
	$(PY) -m infra.keys seed --stack $(STACK)
	$(PY) -m infra.keys edge --stack $(STACK)
	$(PY) -m infra.backfill video-listing --stack $(STACK)

rotate-keys: $(STAMP)
	$(PY) -m infra.keys rotate --stack $(STACK)

destroy: synth
	$(CDK) destroy --app cdk.out --force Videoplane

clean:
	rm -rf $(VENV) .devstack .pytest_cache .mypy_cache .ruff_cache cdk.out
