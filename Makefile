# The two commands of the README: `make demo` (set-up + the main job on bundled demo data) and
# `make test` (set-up + the whole test suite). Both create ./.venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test serve bench clean

$(BIN)/carelens: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

setup: $(BIN)/carelens

demo: setup
	$(BIN)/carelens demo

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

serve: setup
	$(BIN)/carelens serve

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
