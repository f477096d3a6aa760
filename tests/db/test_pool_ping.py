"""Pooled connections are pinged when they come back from idleness, not at every checkout."""

from openevent.db import session as db_session
from openevent.db.session import get_engine


def _engine(tmp_path):
    return get_engine(
        {"sqlalchemy.url": f"sqlite:///{tmp_path / 'ping.sqlite'}", "openevent.db.pool_size": 5}
    )


def _raw(engine):
    with engine.connect() as connection:
        return connection.connection.dbapi_connection


def test_a_connection_used_a_moment_ago_is_not_pinged(tmp_path, monkeypatch):
    engine = _engine(tmp_path)
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or True)
    first = _raw(engine)
    assert _raw(engine) is first  # the same pooled connection, handed out again
    assert pings == []
    engine.dispose()


def test_an_idle_connection_found_dead_is_replaced(tmp_path, monkeypatch):
    engine = _engine(tmp_path)
    first = _raw(engine)
    monkeypatch.setattr(db_session, "PING_AFTER_IDLE_SECONDS", 0.0)
    pinged = []

    def ping(connection):
        pinged.append(connection)
        return connection is not first  # the first one died while idle

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    with engine.connect() as connection:
        replacement = connection.connection.dbapi_connection
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    assert pinged[0] is first
    assert replacement is not first
    engine.dispose()


def test_a_request_that_lost_its_connection_is_replayed(testapp, monkeypatch):
    """A connection that died in use fails its statement; the request is replayed on another."""
    from pyramid.testing import DummyRequest
    from pyramid_retry import IRetryableError
    from sqlalchemy.exc import DBAPIError

    from openevent.api.errors import unexpected_error_view

    lost = DBAPIError("SELECT 1", None, Exception("server closed the connection"))
    lost.connection_invalidated = True
    request = DummyRequest(path="/v1/events", method="GET")
    unexpected_error_view(lost, request)
    assert IRetryableError.providedBy(lost)  # pyramid_retry replays the request
