# Two commands for a new user: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PACKAGES := ledger projections api

.PHONY: install lint test run bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict $(PACKAGES)

test: lint
	$(BIN)/pytest

# The key that signs checkpoints (docs/integrity.md); made on the first `make run`.
RUN_KEY := $(or $(COUNTERPART_SIGNING_KEY_FILE),counterpart-signing.pem)

run: install
	$(BIN)/counterpart keys generate --out $(RUN_KEY) --if-missing
	$(BIN)/counterpart db upgrade
	COUNTERPART_SIGNING_KEY_FILE=$(RUN_KEY) $(BIN)/counterpart demo --if-empty
	COUNTERPART_SIGNING_KEY_FILE=$(RUN_KEY) $(BIN)/counterpart serve

bench: install
	command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)
	$(BIN)/python bench/peer.py
	$(BIN)/python bench/commands.py
	$(BIN)/python bench/snapshots.py
	$(BIN)/python bench/projections.py
	$(BIN)/python bench/scaleout.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/request_cost.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
