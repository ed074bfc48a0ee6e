# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DB     ?= newsmark.db
# A second environment holding the lowest versions pyproject.toml allows (`make test-lowest`).
LOWEST := .venv-lowest

.PHONY: run test test-fast test-lowest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,html,postgres]'
	touch $(STAMP)

run: $(STAMP)
	test -f $(DB) || $(BIN)/newsmark --db $(DB) import seeds
	$(BIN)/newsmark --db $(DB)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not e2e"

# The fast tests against the lowest versions pyproject.toml allows (uv's lowest-direct
# resolution, in a fresh $(LOWEST)), so the declared floors are known to work. The SVG
# snapshots are left out: Textual releases render them differently.
test-lowest: $(STAMP)
	$(BIN)/pip install --quiet 'uv>=0.5'
	rm -rf $(LOWEST)
	$(BIN)/uv venv --quiet --python $(BIN)/python $(LOWEST)
	$(BIN)/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[dev,html,postgres]'
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider -m "not slow and not e2e and not snapshot"

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(LOWEST) build *.egg-info
