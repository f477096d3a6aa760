# openevent's everyday commands. On a fresh machine, `make run` sets up and serves the app on its
# embedded defaults; `make test` runs the test suite. Both create the virtualenv on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Editable installs of the core and of every first-party plugin, with their test extras, and
# the sample plugin distribution the plugin system's tests find through its entry points.
PACKAGES := -e '.[testing]' -e 'plugins/openevent-versions[testing]' \
	-e 'plugins/openevent-images[testing]' -e 'plugins/openevent-exports[testing]'

.PHONY: run test lint format clean

run: $(VENV)/.installed
	mkdir -p var
	$(BIN)/openevent db upgrade development.ini
	$(BIN)/pserve development.ini

# The core's tests (with the sample plugins they install), then each first-party plugin's in a
# session of its own, which loads that plugin only (openevent_plugins in its pyproject.toml).
test: $(VENV)/.installed
	$(BIN)/pytest
	$(BIN)/pytest plugins/openevent-versions/tests
	$(BIN)/pytest plugins/openevent-images/tests
	$(BIN)/pytest plugins/openevent-exports/tests

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(VENV)/.installed: setup.cfg setup.py pyproject.toml Makefile tests/plugin_dist/pyproject.toml \
		plugins/openevent-versions/pyproject.toml plugins/openevent-images/pyproject.toml \
		plugins/openevent-exports/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(PACKAGES)
	touch $@

clean:
	rm -rf $(VENV) var build *.egg-info
