"""Engines and transactional sessions, for requests and for code outside requests.

Sessions that may write begin, on SQLite, by taking the write lock (see
:mod:`openevent.db.sqlite`); GET requests promise to only read and run beside the writer.
"""

import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import transaction
import zope.sqlalchemy
from sqlalchemy import Engine, engine_from_config, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
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
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    pool_size = settings.get("openevent.db.pool_size")
    if pool_size is not None and not in_memory:  # (in memory: one connection per thread)
        options["pool_size"] = pool_size
    engine = engine_from_config(settings, prefix="sqlalchemy.", **options)
    ping_idle_connections(engine)
    refuse_guarded_writes(engine)
    if url.get_backend_name() == "sqlite":
        configure_sqlite(engine, in_memory=in_memory)
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


# The execution option of a transaction that promised not to write: its WriteGuard.
_GUARD = "openevent_write_guard"
# How the statements that never write begin (SQLAlchemy's own for transactions and savepoints
# included): anything else counts as a write, a harmless mistake for a statement that reads.
_READING = ("SELECT", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK")


class WriteRefused(SQLAlchemyError):
    """A statement that may write, in a transaction that promised not to (a job declared with
    ``writes=False``: see :func:`transaction_scope`)."""


class WriteGuard:
    """Watches one transaction that promised not to write: ``refused`` is the first statement
    it refused, kept even if the code that ran it caught the error, so that the transaction
    does not commit as if the write had happened."""

    def __init__(self):
        self.refused: str | None = None


def refuse_guarded_writes(engine: Engine) -> None:
    """Make ``engine`` refuse, with :class:`WriteRefused`, every statement that may write in a
    transaction begun with a :class:`WriteGuard` (see :func:`get_tm_session`).

    On SQLite such a transaction begins without the write lock (a deferred ``BEGIN``), and a
    write in it would ask SQLite for the lock while holding a snapshot: "database is locked"
    whenever another connection wrote meanwhile. The same is refused on PostgreSQL, where it
    would work, so that a job that breaks its promise fails on every database alike.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse(connection, cursor, statement, parameters, context, executemany):
        guard = connection.get_execution_options().get(_GUARD)
        if guard is not None and not statement.lstrip()[:9].upper().startswith(_READING):
            guard.refused = guard.refused or statement
            raise WriteRefused(f"a transaction that promised not to write tried: {statement}")


def get_session_factory(engine: Engine, registry=None) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; its sessions carry ``registry`` in ``info``, so
    code given only a session (such as ``enqueue``) reaches the app's services."""
    factory = sessionmaker(bind=engine, info={"registry": registry})
    _join_transaction_managers(factory)
    event.listen(factory, "after_begin", _guard_connection)
    return factory


def _guard_connection(session, session_transaction, connection) -> None:
    """Give a guarded session's connection its :class:`WriteGuard` as it begins (an option of
    that connection alone, which :func:`refuse_guarded_writes` reads): cheaper than an engine
    with the option for each transaction."""
    guard = session.info.get(_GUARD)
    if guard is not None:
        connection.execution_options(**{_GUARD: guard})


# Key in a session's ``info``: zope.sqlalchemy's listeners for the session's manager.
_ZOPE_EVENTS = "openevent.zope_events"
# The factories whose sessions call those listeners.
_JOINING: weakref.WeakSet[sessionmaker] = weakref.WeakSet()
# The session events zope.sqlalchemy's ``register()`` listens to, and where each finds it.
_ZOPE_SESSION_EVENTS = {
    "after_begin": lambda session, *args: session,
    "after_attach": lambda session, *args: session,
    "after_flush": lambda session, *args: session,
    "after_bulk_update": lambda context: context.session,
    "after_bulk_delete": lambda context: context.session,
    "before_commit": lambda session: session,
    "do_orm_execute": lambda state: state.session,
}


def _join_transaction_managers(factory: sessionmaker[Session]) -> None:
    """Listen once on ``factory`` with zope.sqlalchemy's listeners, each session's own.

    ``zope.sqlalchemy.register(session)`` adds seven listeners to each session it is given,
    which costs as much as the query of a short job. Registered on the factory instead, each
    listener calls those that :func:`get_tm_session` keeps in the session's ``info`` (the same
    ``ZopeTransactionEvents`` that ``register()`` makes, for the session's manager); sessions
    without (made by the factory outside :func:`get_tm_session`) are left alone, as before.
    """

    def dispatcher(name, session_of):
        def listener(*args):
            events = session_of(*args).info.get(_ZOPE_EVENTS)
            if events is not None:
                getattr(events, name)(*args)

        return listener

    for name, session_of in _ZOPE_SESSION_EVENTS.items():
        event.listen(factory, name, dispatcher(name, session_of))
    _JOINING.add(factory)


def get_tm_session(
    session_factory: sessionmaker[Session],
    transaction_manager: transaction.TransactionManager,
    request=None,
    *,
    writes: bool = True,
    lane: Lane = Lane.NEW,
    durable: bool = True,
    guard: WriteGuard | None = None,
) -> Session:
    """A session joined to ``transaction_manager``: committed or aborted with it, never by hand.

    ``request`` (if any) and ``transaction_manager`` are kept in ``session.info``, so listeners
    can tell who acts and code given only the session (such as ``enqueue``) can hook into its
    transaction. ``writes=False`` promises that the transaction only reads: on SQLite it then
    begins deferred and runs beside the writer instead of queueing for the write lock; a
    writing one queues in ``lane`` (see :class:`openevent.db.sqlite.Lane`). ``durable=False``:
    see :func:`transaction_scope`. A ``guard`` (with ``writes=False``) makes the promise
    checked: see :func:`refuse_guarded_writes` (not on a connection already in a transaction,
    as in the tests, which keeps the options it began with).
    """
    if session_factory not in _JOINING:
        raise ValueError("not a session factory of get_session_factory(): it would not commit")
    bind = session_factory.kw.get("bind")
    if writes:
        bind = for_writes(bind, lane, durable=durable)
    info = {
        "request": request,
        "transaction_manager": transaction_manager,
        _ZOPE_EVENTS: zope.sqlalchemy.ZopeTransactionEvents(
            transaction_manager=transaction_manager
        ),
    }
    if not writes and guard is not None and isinstance(bind, Engine):
        info[_GUARD] = guard  # see _guard_connection
    return session_factory(bind=bind, info=info)


@contextmanager
def transaction_scope(
    registry,
    *,
    lane: Lane = Lane.NEW,
    durable: bool = True,
    writes: bool = True,
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

    ``writes=False`` promises that the transaction only reads (a job declared so): on SQLite it
    then begins without the write lock and runs beside the writer; a statement that may write
    raises :class:`WriteRefused`, and so does the end of the block if one was refused (caught
    or not), which rolls the transaction back.
    """
    manager = transaction.TransactionManager(explicit=True)
    guard = None if writes else WriteGuard()
    with manager:
        dbsession = get_tm_session(
            registry["dbsession_factory"],
            manager,
            writes=writes,
            lane=lane,
            durable=durable,
            guard=guard,
        )
        if not durable and dbsession.get_bind().dialect.name == "postgresql":
            dbsession.execute(text("SET LOCAL synchronous_commit TO OFF"))
        yield dbsession
        if guard is not None and guard.refused:
            raise WriteRefused(f"a transaction that promised not to write tried: {guard.refused}")
