# medreg: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# pytest-xdist workers per database run (CI has 2 cores); 0 runs the tests in one process
PYTEST_WORKERS ?= 2
# (each worker runs its own browser-test server and Spark JVM: xdist's loadgroup, which could keep
# them on one worker, does not rename node ids under pytest 9)
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS)

.PHONY: demo test install chromium java pdf postgres test-sqlite test-postgresql lint serve clean \
	bench-signals bench-surveillance bench-catalog

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## make demo: install, migrate ./medreg.db, load reference + demo data, serve on http://127.0.0.1:8000
demo: install pdf
	MEDREG_DATABASE_URL=$${MEDREG_DATABASE_URL:-sqlite:///./medreg.db} $(BIN)/medreg db upgrade
	MEDREG_DATABASE_URL=$${MEDREG_DATABASE_URL:-sqlite:///./medreg.db} $(BIN)/medreg demo load
	MEDREG_DATABASE_URL=$${MEDREG_DATABASE_URL:-sqlite:///./medreg.db} $(BIN)/medreg serve --host $(HOST) --port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing a Java runtime for the PySpark tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; }

pdf:
	@{ ldconfig -p | grep -q libpangoft2-1.0 && fc-list :lang=zh | grep -q .; } || { \
	  echo "installing Pango and a Chinese font for WeasyPrint (PDF reports)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei >/dev/null; }

postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
	  for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

lint: install
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests

test-sqlite: install chromium java pdf
	MEDREG_TEST_DB=sqlite $(PYTEST) $(PYTEST_ARGS)

test-postgresql: install chromium java pdf postgres
	MEDREG_TEST_DB=postgresql $(PYTEST) $(PYTEST_ARGS)

## make test: the whole suite on SQLite and on a fresh PostgreSQL database, browser tests included
test: install chromium java pdf postgres
	$(BIN)/lint-imports
	MEDREG_TEST_DB=sqlite $(PYTEST) $(PYTEST_ARGS)
	MEDREG_TEST_DB=postgresql $(PYTEST) $(PYTEST_ARGS)

## make bench-signals: medreg vs vigipy 3.5.1 and mddc 1.1.0 on generated report sets (own venv;
## BENCH_REPORTS: sizes with every tool, BENCH_BIG: medreg end to end vs the DuckDB GROUP BY floor only)
BENCH_VENV := .venv-bench
BENCH_REPORTS ?= 100000
BENCH_BIG ?=
bench-signals:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet -e ".[bench]"
	nice $(BENCH_VENV)/bin/python -m bench.signals.compare --reports $(BENCH_REPORTS) --big $(BENCH_BIG)

## make bench-surveillance: sequential monitoring benchmark (50 groups x 200k procedures; a few minutes)
bench-surveillance: install
	nice $(BIN)/python bench/bench_surveillance.py

## make bench-catalog: catalogue search vs RapidFuzz (same rows, same queries; prints ratios)
bench-catalog: install
	nice $(BIN)/python bench/catalog_search.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) medreg.db medreg.db-* var .pytest_cache
