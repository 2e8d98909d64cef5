# The two commands of the README: `make demo` (set-up + the main job on bundled demo data) and
# `make test` (set-up + the whole test suite). Both create ./.venv on first use and install the
# exact versions pinned in requirements/ (with their hashes): the runtime for `make demo`, the
# runtime plus the test extras for `make test`. `make lock` re-pins them, deliberately.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# the lock is made with uv (it resolves once for every platform and Python, with markers) and
# installed with plain pip; uv lives in its own folder and is never needed to install carelens
UV_VERSION := 0.13.9
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
LOCK := $(UV) pip compile pyproject.toml --universal --fork-strategy fewest --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet

.PHONY: setup setup-test demo test serve lock check-lock manifest rsconnect bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# pinned dependencies first (hash-checked), then carelens itself with no dependency of its own
# choosing; `pip check` fails the set-up if the lock misses something pyproject.toml asks for
$(VENV)/.installed-runtime: requirements/runtime.txt pyproject.toml | $(BIN)/python
	$(PIP) install -q --require-hashes -r requirements/runtime.txt
	$(PIP) install -q --no-deps -e .
	$(PIP) check
	@touch $@

$(VENV)/.installed-test: requirements/test.txt $(VENV)/.installed-runtime
	$(PIP) install -q --require-hashes -r requirements/test.txt
	$(PIP) check
	@touch $@

setup: $(VENV)/.installed-runtime

setup-test: $(VENV)/.installed-test

demo: setup
	$(BIN)/carelens demo

test: setup-test
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

serve: setup
	$(BIN)/carelens serve

$(UV):
	test -x $(TOOLS)/bin/python || $(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q "uv==$(UV_VERSION)"

# Posit Connect: the bundle (app.py, the carelens package, the runtime lock as requirements.txt) and
# its manifest, written by rsconnect-python's `write-manifest fastapi` (docs/deploy.md). rsconnect
# lives in the tools folder, like uv, and is never part of carelens's own environment.
RSCONNECT_VERSION := 1.32.0
RSCONNECT := $(TOOLS)/bin/rsconnect
$(RSCONNECT):
	test -x $(TOOLS)/bin/python || $(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q "rsconnect-python==$(RSCONNECT_VERSION)"

rsconnect: $(RSCONNECT)

manifest: | $(RSCONNECT)
	$(TOOLS)/bin/python deploy/posit-connect/bundle.py build/posit-connect --rsconnect $(CURDIR)/$(RSCONNECT)

# Re-pin every dependency to the newest versions pyproject.toml allows (from PyPI, or UV_INDEX_URL),
# then check each pin has a wheel for Linux x86_64/aarch64 on Python 3.11/3.12. The runtime
# set is resolved inside the test set, so tests always run on the versions the demo installs.
# Commit the two files only after `make test` passes on them (CI runs the suite on the lock).
lock: | $(UV)
	$(LOCK) --extra test -o requirements/test.txt
	$(LOCK) --extra postgres -c requirements/test.txt -o requirements/runtime.txt
	$(MAKE) check-lock

# Packages that publish no wheel for some of these platforms, built from source there:
# pyspark (pure Python, test extras only) and libsass (for shiny's chat; compiles C++ on aarch64).
SOURCE_BUILT := libsass pyspark
check-lock: | $(UV)
	@for lock in runtime test; do \
	  wheels=$$(grep -oE '^[A-Za-z0-9_.-]+==' requirements/$$lock.txt | tr -d = | grep -vxF -e $(subst $() , -e ,$(SOURCE_BUILT)) | paste -sd,); \
	  for platform in x86_64-manylinux_2_28 aarch64-manylinux_2_28; do for python in 3.11 3.12; do \
	    $(UV) pip compile requirements/$$lock.txt --python-platform $$platform --python-version $$python \
	      --only-binary "$$wheels" --quiet -o /dev/null || exit 1; \
	    echo "$$lock lock: wheels for $$platform, Python $$python (source: $(SOURCE_BUILT))"; \
	  done; done; done

clean:
	rm -rf $(VENV) $(TOOLS) build dist src/*.egg-info .pytest_cache
