# openevent's everyday commands. On a fresh machine, `make run` sets up and serves the app on its
# embedded defaults; `make test` runs the test suite. Both create the virtualenv on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Editable installs of the core and of every first-party plugin, with their test extras, and
# the sample plugin distribution the plugin system's tests find through its entry points.
PACKAGES := -e '.[testing]' -e 'plugins/openevent-versions[testing]' \
	-e 'plugins/openevent-images[testing]' -e 'plugins/openevent-exports[testing]' \
	-e 'plugins/openevent-schedule[testing]'
# The schedule plugin's browser tests drive Debian's chromium, never a browser Playwright would
# download, and load axe-core from npm into the pages they check.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
AXE := plugins/openevent-schedule/node_modules/axe-core/axe.min.js
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test bench lint format clean browser

run: $(VENV)/.installed
	mkdir -p var
	$(BIN)/openevent db upgrade development.ini
	$(BIN)/pserve development.ini

# The core's tests (with the sample plugins they install), then each first-party plugin's in a
# session of its own: a plugin's tests see the plugins installed beside it, not the samples.
test: $(VENV)/.installed browser
	$(BIN)/pytest
	$(BIN)/pytest plugins/openevent-versions/tests
	$(BIN)/pytest plugins/openevent-images/tests
	$(BIN)/pytest plugins/openevent-exports/tests
	$(BIN)/pytest plugins/openevent-schedule/tests

# What the browser tests need, installed where missing (quick when present).
browser: $(AXE)
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

$(AXE): plugins/openevent-schedule/package.json plugins/openevent-schedule/package-lock.json
	cd plugins/openevent-schedule && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Every benchmark against its floor, in one table: SQLite (and Dramatiq's in-memory broker) by
# default, PostgreSQL and Redis when OPENEVENT_TEST_DATABASE_URL / OPENEVENT_TEST_REDIS_URL are
# set. See bench/README.md.
bench: $(VENV)/.installed
	$(BIN)/python bench/run_all.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(VENV)/.installed: setup.cfg setup.py pyproject.toml Makefile tests/plugin_dist/pyproject.toml \
		plugins/openevent-versions/pyproject.toml plugins/openevent-images/pyproject.toml \
		plugins/openevent-exports/pyproject.toml plugins/openevent-schedule/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(PACKAGES)
	touch $@

clean:
	rm -rf $(VENV) var build *.egg-info plugins/openevent-schedule/node_modules
