"""Shared set-up: the sample plugins installed, a published event, its owner and the owner's
API headers."""

import importlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from openevent.models import EventState
from openevent.plugins import PLUGINS_KEY
from openevent.testing import JSONAPI_HEADERS, make_event, make_user

SAMPLE_PLUGINS = Path(__file__).parent / "plugin_dist"


@pytest.fixture(scope="session", autouse=True)
def sample_plugins_installed(tmp_path_factory):
    """Install tests/plugin_dist for this run only: pip builds it and writes its metadata with
    the real entry points into a folder put on sys.path, so the app built for the tests finds
    the sample plugins, and the environment that `make run` uses never does."""
    site = tmp_path_factory.mktemp("site-packages")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(SAMPLE_PLUGINS),
        ],
        check=True,
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield site
    sys.path.remove(str(site))


@pytest.fixture
def owner(dbsession):
    return make_user(dbsession, email="owner@example.org")


@pytest.fixture
def headers(token_for, owner):
    """JSON:API request headers with the owner's token."""
    return {**token_for(owner), **JSONAPI_HEADERS}


@pytest.fixture
def event(dbsession, owner):
    return make_event(dbsession, owner=owner, state=EventState.PUBLISHED)


@pytest.fixture
def plugin_info(registry, monkeypatch):
    """``plugin_info(name, **changes)``: for this test, the app sees plugin ``name``'s metadata
    with ``changes`` (``enabled_by_default=False``, other ``event_settings``, hooks...)."""

    def _change(name, **changes):
        plugins = registry[PLUGINS_KEY]
        monkeypatch.setitem(plugins, name, replace(plugins[name], **changes))

    return _change
