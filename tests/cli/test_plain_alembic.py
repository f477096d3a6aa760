"""Plain ``alembic -c development.ini ...`` (and production.ini) works with a plugin that has
migrations installed, and sees the revisions ``openevent db`` sees.

The real commands run in subprocesses, in the environment ``make`` sets up: the versions
plugin is installed there (the sample plugins of tests/plugin_dist are not).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import openevent_versions  # noqa: F401  (the plugin with migrations this test is about)
from openevent.db.migrations import core_heads

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PRODUCTION_ENV = {
    "OPENEVENT_SECRET": "x" * 48,
    "OPENEVENT_BROKER_URL": "redis://cache.internal:6379/0",
    "OPENEVENT_STORAGE_GCS_BUCKET": "openevent-files",
}


@pytest.fixture
def run(empty_database_url):
    """``run(command, *args)``: the output of ``command`` (alembic, openevent) on a database of
    the test's own; fails the test if the command fails."""
    env = {**os.environ, **PRODUCTION_ENV, "OPENEVENT_DATABASE_URL": empty_database_url}

    def _run(command: str, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / command), *args], env=env, capture_output=True, text=True, cwd=ROOT
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    return _run


def _revisions(output: str) -> set[str]:
    return set(re.findall(r"\b[0-9a-f]{12}\b", output))


def test_plain_alembic_sees_the_plugins_migrations(run, app_settings):
    development, production = str(ROOT / "development.ini"), str(ROOT / "production.ini")
    expected = set(run("openevent", "db", "heads", development).split())
    # The core's head and those of the first-party plugins `make test` installs.
    assert len(expected) == 3

    run("alembic", "-c", development, "upgrade", "heads")
    assert set(run("openevent", "db", "current", development).split()) == expected
    for ini in (development, production):
        current = run("alembic", "-c", ini, "current")
        assert _revisions(current) == expected
        assert current.count("(head)") == 3
        history = run("alembic", "-c", ini, "history")
        assert expected <= _revisions(history)
        assert "(versions) (head)" in history
        assert "(exports) (head)" in history

    # `heads` runs no env.py, so no settings and no plugins: the core's head, as documented.
    assert _revisions(run("alembic", "-c", development, "heads")) == set(core_heads(app_settings))
