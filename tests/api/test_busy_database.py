"""SQLite's "database is locked" is transient: the request is replayed, not answered 500."""

import sqlite3

import pytest
import webtest
from sqlalchemy.exc import OperationalError

from openevent.config import configure

attempts = []


def _sometimes_locked(request):
    attempts.append(request.environ["retry.attempt"])
    if len(attempts) <= request.registry["locked_times"]:
        raise OperationalError("UPDATE ...", {}, sqlite3.OperationalError("database is locked"))
    return {"attempts": len(attempts)}


@pytest.fixture
def app(app_settings, app_config):  # app_config: the test database, migrated
    attempts.clear()
    config = configure(app_settings)
    config.add_route("test.locked", "/v1/test-locked")
    config.add_view(_sometimes_locked, route_name="test.locked", renderer="jsonapi")
    yield config
    config.registry["dbengine"].dispose()


def test_a_locked_database_is_retried(app):
    app.registry["locked_times"] = 1
    response = webtest.TestApp(app.make_wsgi_app()).get("/v1/test-locked", status=200)
    assert response.json == {"attempts": 2}
    assert attempts == [0, 1]


def test_still_locked_after_every_attempt_is_503_not_500(app):
    app.registry["locked_times"] = 99
    response = webtest.TestApp(app.make_wsgi_app()).get("/v1/test-locked", status=503)
    assert response.headers["Retry-After"] == "1"
    assert response.json["errors"][0]["code"] == "busy"
    assert attempts == [0, 1, 2]  # retry.attempts = 3
