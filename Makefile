# `make run` runs code4 on its embedded defaults; `make test` runs the checks (ruff, mypy) and tests.
# Both create the virtual environment in .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench check-example clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/code4 run

# Two workers for everything but the chaos tests, which kill and freeze processes against
# real-time bounds and so run alone, after.
test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --ignore=tests/chaos
	$(BIN)/python -m pytest tests/chaos

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/code4 bench

check-example: $(VENV)/.installed
	$(BIN)/code4 check deploy/examples/wormerland.yaml

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
