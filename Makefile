# Two commands for a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
# The lock files pin every package, dependencies included, with their file hashes; a
# fresh machine installs exactly what CI tested. `make lock` regenerates them.
LOCK := requirements/runtime.lock
DEV_LOCK := requirements/dev.lock

.PHONY: demo test test-embedded test-scaled lint bench docs clean browser system lock

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "overt needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# What running needs: the runtime lock, then overt itself (no resolution, no extras).
$(STAMP): $(LOCK) pyproject.toml | $(BIN)/python system
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	@touch $(STAMP)

# What testing adds: the dev lock (a superset of the runtime lock).
$(DEV_STAMP): $(DEV_LOCK) $(STAMP)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(DEV_LOCK)
	$(BIN)/python -m pip check
	@touch $(DEV_STAMP)

# Debian packages that running needs: libGL for OpenCV. Idempotent.
# Best effort: HarfBuzz's subsetter, with which WeasyPrint cuts a PDF's fonts in C (without
# it, WeasyPrint falls back to fontTools, ~0.3 s of CPU per font in every PDF).
system:
	@ldconfig -p | grep -q 'libGL.so.1 ' || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  $$SUDO apt-get install -y -q libgl1 >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q libgl1 >/dev/null; }; }
	@ldconfig -p | grep -q 'libharfbuzz-subset.so.0 ' || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  $$SUDO apt-get install -y -q libharfbuzz-subset0 >/dev/null 2>&1 || \
	  echo "make system: libharfbuzz-subset0 not installed; PDFs are made, more slowly" >&2; }

lock: $(DEV_STAMP)
	$(BIN)/pip-compile -q --generate-hashes --strip-extras --allow-unsafe -o $(LOCK) pyproject.toml
	$(BIN)/pip-compile -q --generate-hashes --strip-extras --allow-unsafe --extra dev -o $(DEV_LOCK) pyproject.toml

## demo: install, create an embedded instance with demo footage and users, serve it
demo: $(STAMP)
	$(BIN)/overt demo-data
	@echo "Open http://127.0.0.1:8000 and log in with one of the accounts above."
	$(BIN)/overt serve

## test: lint, the whole suite on the embedded engines, then on the scaled engines
test: lint test-embedded test-scaled

# bandit: no high-severity findings; pip-audit: the pinned dependencies as installed
# (tools/audit_deps.py says so loudly when the advisory database cannot be reached).
# mypy (one process, most of lint's time on a clean clone with no cache) runs beside the
# other checks, each with its own output file, shown in order; lint fails if any fails.
LINT_OUT := $(VENV)/lint-out
lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench tools
	@rm -rf $(LINT_OUT) && mkdir -p $(LINT_OUT); \
	( $(BIN)/mypy > $(LINT_OUT)/1-mypy 2>&1; echo $$? > $(LINT_OUT)/1-mypy.rc ) & \
	( { $(BIN)/lint-imports && $(BIN)/bandit -q -r src -lll; } > $(LINT_OUT)/2-imports-bandit 2>&1; \
	  echo $$? > $(LINT_OUT)/2-imports-bandit.rc ) & \
	( $(BIN)/python tools/audit_deps.py > $(LINT_OUT)/3-audit 2>&1; echo $$? > $(LINT_OUT)/3-audit.rc ) & \
	wait; status=0; \
	for check in mypy imports-bandit audit; do \
	  out=$$(ls $(LINT_OUT)/*-$$check); echo "== $$check"; cat $$out; \
	  [ "$$(cat $$out.rc)" = 0 ] || { echo "== $$check FAILED"; status=1; }; \
	done; exit $$status

# Browser tests drive Debian's Chromium (never `playwright install`); install it once.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "Could not install Debian's chromium: browser tests will skip (they fail under CI)."; }

test-embedded: $(DEV_STAMP) browser
	$(BIN)/pytest -n 2 --dist loadfile -q --durations=40

# PostgreSQL, Redis and S3 (moto_server). Under CI=true a missing service fails the run.
test-scaled: $(DEV_STAMP)
	OVERT_TEST_ENGINES=scaled $(BIN)/pytest -n 2 --dist loadfile -m scaled -q --durations=40

bench: $(DEV_STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/custody.py

## docs: regenerate the reference pages made from code (settings, CLI)
docs: $(DEV_STAMP)
	$(BIN)/python -m overt.docsgen

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
