# One command each for lint, types, tests, and all of them (`make check`).
# PY is the virtualenv's Python, created by the README's commands.
PY ?= .venv/bin/python
BIN := $(dir $(PY))
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
# Test processes (pytest-xdist); JOBS=0 runs in this process.
JOBS ?= 2

.PHONY: check lint types contracts migrations test test-pg browser browser-pg fmt

check: lint types contracts migrations test browser

lint:
	$(BIN)ruff check lavka tests bench
	$(BIN)ruff format --check lavka tests bench

fmt:
	$(BIN)ruff check --fix lavka tests bench
	$(BIN)ruff format lavka tests bench

types:
	$(BIN)mypy lavka

contracts:
	$(BIN)lint-imports

migrations:
	LAVKA_DATA_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run

test:
	$(PY) -m pytest -m "not browser" -q -n $(JOBS)

test-pg:
	LAVKA_TEST_DATABASE_URL=$(PG_URL) $(PY) -m pytest -m "not browser" -q -n $(JOBS)

browser:
	$(PY) -m pytest -m browser -q -n $(JOBS)

browser-pg:
	LAVKA_TEST_DATABASE_URL=$(PG_URL) $(PY) -m pytest -m browser -q -n $(JOBS)
