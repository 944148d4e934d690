# The two commands: `make run` (the whole platform, embedded default) and `make test` (the suite).
# Both create .venv and install what they need on a machine that has Python 3.11 and make.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST := $(PY) -m pytest -q -p no:randomly

.PHONY: install run test test-unit test-integration test-e2e test-faults lint bench up down clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m chassis.launcher

# Unit tests; the integration tier on SQLite and, when TEST_DATABASE_URL names a PostgreSQL
# server, again on PostgreSQL; the end-to-end tier with every app as a real process.
test: install lint test-unit test-integration test-e2e

test-unit: install
	$(PYTEST) tests/unit

test-integration: install
	TEST_DATABASE=sqlite $(PYTEST) tests/integration
	@if [ -n "$$TEST_DATABASE_URL" ]; then echo "integration tier on PostgreSQL: $$TEST_DATABASE_URL"; \
	  $(PYTEST) tests/integration; else echo "TEST_DATABASE_URL not set: integration tier ran on SQLite only"; fi

test-e2e: install
	$(PYTEST) tests/e2e

test-faults: install
	$(PYTEST) tests/faults

lint: install
	$(PY) -m ruff check chassis services gateway tests
	$(PY) -m mypy chassis services gateway

bench: install
	$(PY) -m bench.run

up:
	docker compose -f deploy/compose.yaml up -d --build

down:
	docker compose -f deploy/compose.yaml down

clean:
	rm -rf var .mypy_cache .ruff_cache
