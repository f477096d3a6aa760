"""Database wiring: engine, session factory and ``request.dbsession`` under pyramid_tm."""

from openevent.db.meta import Base
from openevent.db.session import (
    READ_ONLY_METHODS,
    WriteRefused,
    get_engine,
    get_session_factory,
    get_tm_session,
    transaction_scope,
)
from openevent.db.sqlite import Lane, for_writes
from openevent.db.types import NaiveDatetimeError, UTCDateTime, utcnow

__all__ = [
    "Base",
    "Lane",
    "NaiveDatetimeError",
    "UTCDateTime",
    "WriteRefused",
    "for_writes",
    "get_engine",
    "get_session_factory",
    "get_tm_session",
    "transaction_scope",
    "utcnow",
]


def _dbsession(request):
    # GET requests only read (tests/db/test_sqlite_concurrency.py checks every GET route): on
    # SQLite they read beside the writer; every other method may write and queues for the lock.
    writes = request.method not in READ_ONLY_METHODS
    return get_tm_session(request.registry["dbsession_factory"], request.tm, request, writes=writes)


def includeme(config):
    """Register the engine, the session factory and ``request.dbsession``."""
    settings = config.get_settings()
    # Explicit mode: touching request.tm outside a begun transaction is an error, not a
    # silently created transaction.
    settings.setdefault("tm.manager_hook", "pyramid_tm.explicit_manager")
    settings.setdefault("retry.attempts", 3)
    # pyramid_tm would look up the user for every transaction's notes, outside the error views.
    settings.setdefault("tm.annotate_user", False)
    config.include("pyramid_tm")
    config.include("pyramid_retry")

    engine = get_engine(settings)
    config.registry["dbengine"] = engine
    config.registry["dbsession_factory"] = get_session_factory(engine, config.registry)
    config.add_request_method(_dbsession, "dbsession", reify=True)
