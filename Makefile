# The two commands: `make run` starts everything, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint format migrate clean bench faults fuzz

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

run: $(VENV)/.installed
	$(PY) -m ops.run

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks and the fault suite: not part of `make test`. Each starts the real stack (embedded
# PostgreSQL and Redis, gunicorn, Celery) under var/<name>/ and prints a Markdown table.
# bench:  1,000,000 synthetic cases; first run ~20 min (generating them and closing months),
#         later runs ~2.5 min. BENCH_ARGS="--cases 100000" for a smaller set (~5 min).
# faults: worker SIGKILLs, Redis and PostgreSQL restarts, a district system down; ~5 min.
# fuzz:   schemathesis over the OpenAPI document as terminal, clerk and admin; ~6 min.
bench: $(VENV)/.installed
	$(PY) -m bench.run $(BENCH_ARGS)

faults: $(VENV)/.installed
	$(PY) -m bench.faults $(FAULTS_ARGS)

fuzz: $(VENV)/.installed
	$(PY) -m bench.fuzz $(FUZZ_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var
