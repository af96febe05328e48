# Two commands for a new user: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PACKAGES := ledger projections api

.PHONY: install lint test run bench clean chromium screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The web workspace's front-end packages (package-lock.json), served by the app itself.
NODE_STAMP := node_modules/.installed-stamp
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

# openapi-python-client (for tests/api/test_generated_client.py) pins an older typer than the
# command line's, so it gets a virtual environment of its own.
GENERATOR := $(VENV)/generator/bin/openapi-python-client
$(GENERATOR): | $(STAMP)
	$(PYTHON) -m venv $(VENV)/generator
	$(VENV)/generator/bin/python -m pip install --quiet 'openapi-python-client>=0.29,<0.30'

# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).
chromium:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict $(PACKAGES)

# Two processes, each taking whole test modules (so a module's server and browser start once):
# most tests wait on servers, browsers and the database, so two cores run two at once.
# TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2

test: lint chromium $(GENERATOR)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# The key that signs checkpoints (docs/integrity.md); made on the first `make run`.
RUN_KEY := $(or $(COUNTERPART_SIGNING_KEY_FILE),counterpart-signing.pem)

run: install
	$(BIN)/counterpart keys generate --out $(RUN_KEY) --if-missing
	$(BIN)/counterpart db upgrade
	COUNTERPART_SIGNING_KEY_FILE=$(RUN_KEY) $(BIN)/counterpart demo --if-empty
	COUNTERPART_SIGNING_KEY_FILE=$(RUN_KEY) COUNTERPART_SMTP_URL=$${COUNTERPART_SMTP_URL:-console:} \
		$(BIN)/counterpart serve

# A PNG of every page of the web workspace (demo data) in docs/screenshots/.
screenshots: install chromium
	$(BIN)/python -m tests.web.screenshots docs/screenshots

bench: install
	command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)
	$(BIN)/python bench/peer.py
	$(BIN)/python bench/reads.py
	$(BIN)/python bench/commands.py
	$(BIN)/python bench/snapshots.py
	$(BIN)/python bench/projections.py
	$(BIN)/python bench/scaleout.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/request_cost.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/web.py --partners 1000 --requests 30

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis
