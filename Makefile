# One entry point for humans and CI. `make dev` runs the whole system; `make test` checks and tests it.
VENV ?= .venv
PY := $(VENV)/bin/python
BUF := .tools/node_modules/.bin/buf
ENVOY := .tools/envoy-venv/bin/envoy

.PHONY: install dev serve proto lint test test-slow bench bench-metering bench-ratelimiter soak

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev,local]'
	touch $@

install: $(VENV)/.installed

# Envoy for the rate-limiter's real-Envoy test, in its own virtualenv (see .ci/install-envoy).
$(ENVOY):
	bash .ci/install-envoy

$(BUF):
	mkdir -p .tools && cd .tools && npm install --silent --no-audit --no-fund @bufbuild/buf@1.75.0

dev: install
	$(VENV)/bin/metering dev

proto: install
	$(PY) proto/generate.py

lint: install $(BUF)
	$(VENV)/bin/ruff check services ratelimiter devstack tests bench proto
	$(VENV)/bin/mypy services ratelimiter devstack bench
	$(VENV)/bin/lint-imports --no-cache
	$(PY) proto/generate.py --check
	$(BUF) lint
	bash .ci/buf-breaking $(BUF)

test: lint $(ENVOY)
	$(PY) -m pytest

test-slow: install
	$(PY) -m pytest -m slow

bench: bench-metering


# Metering benchmark: service figures beside raw PostgreSQL and grpc echo ceilings (~2 minutes),
# appended with the date and the machine's load to docs/benchmarks/metering-results.md.
bench-metering: install
	$(PY) -m bench.metering --record $(BENCH_ARGS)

# Rate-limiter benchmark: engine and gRPC figures beside raw EVALSHA, `limits` and grpc echo (~1.5 min),
# appended with the date and the machine's load to docs/benchmarks/ratelimiter-results.md.
bench-ratelimiter: install
	$(PY) -m bench.ratelimiter --record $(BENCH_ARGS)

# Soak: 10 minutes of mixed traffic against real servers on a private PostgreSQL and Redis; fails on
# RSS growth after the warm-up, failed calls or inexact credits (SOAK_ARGS="--minutes 30").
soak: install
	$(PY) -m bench.soak $(SOAK_ARGS)
