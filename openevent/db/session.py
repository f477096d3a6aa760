"""Engines and transactional sessions, for requests and for code outside requests.

Sessions that may write begin, on SQLite, by taking the write lock (see
:mod:`openevent.db.sqlite`); GET requests promise to only read and run beside the writer.
"""

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import transaction
import zope.sqlalchemy
from sqlalchemy import Engine, engine_from_config, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from openevent.db.sqlite import Lane, configure_sqlite, for_writes

# Requests with these methods only read: their transactions stay deferred on SQLite.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def database_url(url: str) -> URL:
    """Parse ``url``, choosing psycopg2 where a PostgreSQL URL names no driver.

    SQLAlchemy 2.1 would pick psycopg 3 for a bare ``postgresql://``; openevent ships psycopg2.
    """
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed


def get_engine(settings: Mapping[str, Any]) -> Engine:
    """Create the engine from the ``sqlalchemy.*`` settings."""
    url = database_url(settings["sqlalchemy.url"])
    options: dict[str, Any] = {"url": url}
    if url.get_backend_name() == "postgresql":
        options["pool_size"] = settings["openevent.db.pool_size"]
    engine = engine_from_config(settings, prefix="sqlalchemy.", **options)
    ping_idle_connections(engine)
    if url.get_backend_name() == "sqlite":
        configure_sqlite(engine, in_memory=url.database in (None, "", ":memory:"))
    return engine


# A pooled connection unused for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED = "openevent.returned_at"


def ping_idle_connections(engine: Engine) -> None:
    """Ping a connection before handing it out if it sat unused in the pool for a while.

    ``pool_pre_ping`` pings at every checkout: one more round trip per request and per job,
    which on a busy process costs as much as a query, for connections used a moment ago. The
    connections that die are idle ones (a database restart, a firewall's idle timeout): those
    are pinged and, if dead, replaced. One that dies while in use (the database restarting under
    load) fails its statement: the pool then drops every connection as old as it, and a request
    that met it is replayed by pyramid_retry (see ``openevent.api.errors``), a job retried.
    """

    @event.listens_for(engine.pool, "checkin")
    def _returned(dbapi_connection, record):
        if record is not None:
            record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping(dbapi_connection, record, proxy):
        returned = record.info.get(_RETURNED)
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return  # new, or used a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception:
            alive = False
        if not alive:
            # The pool closes it and checks out another (a new one if need be).
            raise DisconnectionError("connection found dead when pinged")


def get_session_factory(engine: Engine, registry=None) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; its sessions carry ``registry`` in ``info``, so
    code given only a session (such as ``enqueue``) reaches the app's services."""
    return sessionmaker(bind=engine, info={"registry": registry})


def get_tm_session(
    session_factory: sessionmaker[Session],
    transaction_manager: transaction.TransactionManager,
    request=None,
    *,
    writes: bool = True,
    lane: Lane = Lane.NEW,
    durable: bool = True,
) -> Session:
    """A session joined to ``transaction_manager``: committed or aborted with it, never by hand.

    ``request`` (if any) and ``transaction_manager`` are kept in ``session.info``, so listeners
    can tell who acts and code given only the session (such as ``enqueue``) can hook into its
    transaction. ``writes=False`` promises that the transaction only reads: on SQLite it then
    begins deferred and runs beside the writer instead of queueing for the write lock; a
    writing one queues in ``lane`` (see :class:`openevent.db.sqlite.Lane`). ``durable=False``:
    see :func:`transaction_scope`.
    """
    bind = session_factory.kw.get("bind")
    dbsession = session_factory(
        bind=for_writes(bind, lane, durable=durable) if writes else bind,
        info={"request": request, "transaction_manager": transaction_manager},
    )
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


@contextmanager
def transaction_scope(
    registry, *, lane: Lane = Lane.NEW, durable: bool = True
) -> Iterator[Session]:
    """A session in its own transaction, for scripts and jobs: commits on success, aborts on error.

    The transaction may write: on SQLite it holds the write lock from its first statement to
    its end, so keep it short (do slow work, such as rendering a file, before or after it).
    Work that follows a commit already made names its ``lane``, to wait ahead of new work.

    ``registry`` is the application's registry (from ``configure()`` or ``bootstrap()``), so the
    session comes from the same factory, and follows the same rules, as a request's.

    ``durable=False`` is for bookkeeping that may be lost if the machine or the database server
    crashes, though never when this process dies: the commit returns without waiting for the
    disk (SQLite ``synchronous = NORMAL``, PostgreSQL ``synchronous_commit = off``), and
    is visible to everyone at once all the same.
    """
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(
            registry["dbsession_factory"], manager, lane=lane, durable=durable
        )
        if not durable and dbsession.get_bind().dialect.name == "postgresql":
            dbsession.execute(text("SET LOCAL synchronous_commit TO OFF"))
        yield dbsession
