# Bazaar: `make run` starts the shop on one machine; `make test` runs everything CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# packages are installed by uv (pinned here; several times faster than pip, which installs them should uv fail),
# their bytecode compiled as pip does: where PYTHONDONTWRITEBYTECODE is set (it is on this machine), nothing else
# writes it, and every Ray worker would compile Ray and the rest again on each start (the suite took 40% longer)
UV := uv==0.13.9
pip_install = $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python $(1) || $(BIN)/python -m pip install -q $(1)
N ?= 1000000

.PHONY: install run test lint unit bench bench-deps bench-search catalog search-index audit chaos clean system-deps export analytics replenishment simulate synthetic

install: system-deps $(STAMP)

# System packages: redis-server (and python3-venv where the venv module is missing), via apt-get as root.
system-deps:
	@if ! command -v redis-server >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing redis-server"; apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server; \
	  else echo "redis-server is missing: install it (Debian/Ubuntu: sudo apt-get install redis-server)"; exit 1; fi; fi
	@if [ ! -x $(BIN)/python ] && ! $(PYTHON) -m venv --help >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; \
	  else echo "the Python venv module is missing: install python3-venv"; exit 1; fi; fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q $(UV) || echo "uv not installed: pip installs the packages"
	$(call pip_install,-e '.[dev]')
	@touch $(STAMP)

run: install
	$(BIN)/python -m serve.main

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy domain actors config lake analytics recsys simulation

unit: install
	$(BIN)/python -m pytest -q tests/unit

test: install lint
	$(BIN)/python -m pytest -q

bench: install bench-deps
	$(BIN)/python -m benchmarks.core

# the PostgreSQL baselines need the `bench` extra (asyncpg)
# and wrk (a C HTTP load generator: latency without the Python client's own waits), via apt-get as root
bench-deps:
	@$(BIN)/python -c "import asyncpg, matplotlib" 2>/dev/null || { $(call pip_install,-e '.[bench]'); }
	@command -v wrk >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null || echo "wrk not installed: Python client only"; \
	  else echo "wrk is missing (Debian/Ubuntu: sudo apt-get install wrk): Python client only"; fi; }

# a large, realistic catalog as Parquet for benchmarks (var/catalog/products-N.parquet); `make catalog N=50000`
catalog: install
	$(BIN)/python -m pipelines.large_catalog --products $(N) --out var/catalog/products-$(N).parquet

# search at N products (default 1,000,000): index build, latency in-process and through HTTP, PostgreSQL baseline;
# more options in ARGS, e.g. `make bench-search ARGS="--reuse-index --cold"` (see python -m benchmarks.search -h)
bench-search: install bench-deps
	$(BIN)/python -m benchmarks.search --products $(N) $(ARGS)

# read-only check of every invariant of a live shop (REDIS_URL, else the Redis `make run` starts); exit 1 on violations
audit: install
	$(BIN)/python -m pipelines.audit

# checkout traffic while actor processes, the API replica and redis-server are killed; then the audit (loopback only)
chaos: install
	$(BIN)/python -m tests.chaos

search-index: install
	$(BIN)/python -m pipelines.search_index rebuild

# every event the streams hold now into the lake (Parquet under <data dir>/lake, or BAZAAR_LAKE_DIR), exactly once;
# to keep following the streams: .venv/bin/python -m lake.exporter
export: install
	$(BIN)/python -m lake.exporter --once $(ARGS)

# the lake's business metrics into <data dir>/analytics/analytics.duckdb (Parquet copies and a chart beside it)
analytics: install
	$(BIN)/python -m pipelines.analytics $(ARGS)

# reorder points and quantities per variant from the lake's recent sales, beside the analytics database
replenishment: install
	$(BIN)/python -m pipelines.replenishment $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# drive a running shop (BAZAAR_ENV=simulation, see docs/simulation.md) through its HTTP API with simulated shoppers;
# the admin is BAZAAR_ADMIN_EMAIL / BAZAAR_ADMIN_PASSWORD; `make simulate SHOPPERS=500 DAYS=30 SEED=3`
SHOPPERS ?= 200
DAYS ?= 14
SEED ?= 7
URL ?= http://127.0.0.1:8000
simulate: install
	$(BIN)/python -m simulation.simulate --shoppers $(SHOPPERS) --days $(DAYS) --seed $(SEED) --url $(URL) \
	  --truth var/simulation/truth.json

# synthetic events of the documented schemas straight into a lake, for volume: `make synthetic EVENTS=10000000`
EVENTS ?= 10000000
synthetic: install
	$(BIN)/python -m simulation.synthetic --events $(EVENTS) --days 90 --seed $(SEED) --lake var/lake-synthetic/lake
