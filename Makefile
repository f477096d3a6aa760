# openevent's everyday commands. On a fresh machine, `make run` sets up and serves the app on its
# embedded defaults; `make test` runs the test suite. Both create the virtualenv on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Editable installs of the core and of every first-party plugin, with their test extras, and
# the sample plugin distribution the plugin system's tests find through its entry points.
PACKAGES := -e '.[testing]' -e 'plugins/openevent-versions[testing]'

.PHONY: run test bench lint format clean

run: $(VENV)/.installed
	mkdir -p var
	$(BIN)/openevent db upgrade development.ini
	$(BIN)/pserve development.ini

# The core's tests (with the sample plugins they install), then each first-party plugin's in a
# session of its own: a plugin's tests see the plugins installed beside it, not the samples.
test: $(VENV)/.installed
	$(BIN)/pytest
	$(BIN)/pytest plugins/openevent-versions/tests

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
		plugins/openevent-versions/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(PACKAGES)
	touch $@

clean:
	rm -rf $(VENV) var build *.egg-info
