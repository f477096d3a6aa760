"""Shared set-up: the sample plugins installed, a published event, its owner and the owner's
API headers."""

import importlib
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from openevent.models import EventState
from openevent.plugins import PLUGINS_KEY
from openevent.testing import JSONAPI_HEADERS, make_event, make_user

SAMPLE_PLUGINS = Path(__file__).parent / "plugin_dist"
# For the tests of openevent.testing, which run pytest on test suites of their own.
pytest_plugins = ("pytester",)


@pytest.fixture(scope="session")
def pip_install():
    """``pip_install(source, folder)``: pip builds the distribution at ``source`` and installs
    it, without its dependencies, into ``folder``. It builds with this environment's setuptools
    (and wheel): an isolated build environment, which pip would first download and install,
    takes about ten seconds more each time."""

    def _install(source, folder) -> None:
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"),
                *("--no-build-isolation", "--disable-pip-version-check"),
                *("--target", str(folder), str(source)),
            ],
            check=True,
        )

    return _install


@pytest.fixture(scope="session", autouse=True)
def sample_plugins_installed(tmp_path_factory, pip_install):
    """Install tests/plugin_dist for this run only: pip builds it and writes its metadata with
    the real entry points into a folder put on sys.path, so the app built for the tests finds
    the sample plugins, and the environment that `make run` uses never does."""
    site = tmp_path_factory.mktemp("site-packages")
    pip_install(SAMPLE_PLUGINS, site)
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


@pytest.fixture
def export_with_slides():
    """``export_with_slides(session_ends_at)``: the members (name -> bytes) of a small Open Event
    export whose one session has its slides in the archive; a session ending before it starts
    fails a strict import after the slides are stored."""

    def _members(session_ends_at: str) -> dict[str, bytes]:
        event = {
            "name": "With slides",
            "timezone": "UTC",
            "starts-at": "2026-05-01T09:00:00+00:00",
            "ends-at": "2026-05-02T18:00:00+00:00",
        }
        session = {
            "id": 1,
            "title": "Talk",
            "slides-url": "/slides/talk.pdf",
            "starts-at": "2026-05-01T10:00:00+00:00",
            "ends-at": session_ends_at,
        }
        return {
            "event": json.dumps(event).encode(),
            "sessions": json.dumps([session]).encode(),
            "slides/talk.pdf": b"%PDF-1.4 slides",
        }

    return _members
