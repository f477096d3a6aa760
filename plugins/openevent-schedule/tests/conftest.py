"""Fixtures of the schedule plugin's tests, on top of openevent.testing's."""

import os
from pathlib import Path

import pytest

from openevent.models import EventState
from openevent.testing import JSONAPI_HEADERS, make_event, make_user

pytest_plugins = ("pytester",)

SCREENSHOTS = Path(
    os.environ.get("OPENEVENT_SCREENSHOTS")
    or Path(__file__).resolve().parents[1] / "var" / "screenshots"
)
# Set once a screenshot is saved, so the run's summary names the folder only then.
_SCREENSHOTS_SAVED = pytest.StashKey[Path]()


@pytest.fixture
def owner(dbsession):
    return make_user(dbsession, password=None)


@pytest.fixture
def headers(token_for, owner):
    """JSON:API request headers with the event owner's token."""
    return {**token_for(owner), **JSONAPI_HEADERS}


@pytest.fixture
def event(dbsession, owner):
    return make_event(dbsession, owner=owner, state=EventState.PUBLISHED)


@pytest.fixture
def screenshot(pytestconfig):
    """``screenshot(page, name)`` saves a Playwright page as ``<name>.png`` for people to look
    at, in var/screenshots/ beside this plugin or OPENEVENT_SCREENSHOTS."""

    def save(page, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # A schedule's grid is very long: its first screen shows what it looks like.
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=not name.startswith("schedule"))
        pytestconfig.stash[_SCREENSHOTS_SAVED] = SCREENSHOTS

    return save


def pytest_terminal_summary(terminalreporter, config):
    """Name the screenshot folder at the end of a run that saved screenshots."""
    folder = config.stash.get(_SCREENSHOTS_SAVED, None)
    if folder is not None:
        terminalreporter.write_sep("-", "screenshots")
        terminalreporter.write_line(f"Screenshots of the site's pages are in {folder}")
