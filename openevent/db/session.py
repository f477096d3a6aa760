"""Engines and transactional sessions, for requests and for code outside requests.

On SQLite (WAL mode) a transaction that first reads and then writes cannot be given the write
lock once another connection has written since its read began: SQLite answers "database is
locked" at once, without waiting ``busy_timeout``. So every session that may write begins its
transaction with ``BEGIN IMMEDIATE``, taking the write lock before its first read (and queueing
for it, for up to ``busy_timeout``, behind the writer holding it); read-only sessions (GET
requests) begin a plain deferred ``BEGIN`` and read a snapshot, concurrently with the writer.
PostgreSQL needs none of this: its transactions begin as they always do.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import transaction
import zope.sqlalchemy
from sqlalchemy import Connection, Engine, engine_from_config, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

# Requests with these methods only read: their transactions stay deferred on SQLite.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The execution option that makes a SQLite transaction take the write lock when it begins.
_WRITE_LOCK_OPTION = "openevent_sqlite_write_lock"
# How long a SQLite connection waits for a lock held by another before "database is locked":
# a writer queues this long behind the others (see docs/jobs.md, "Jobs on SQLite").
SQLITE_BUSY_TIMEOUT_MS = 10_000


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
    options: dict[str, Any] = {"pool_pre_ping": True, "url": url}
    if url.get_backend_name() == "postgresql":
        options["pool_size"] = settings["openevent.db.pool_size"]
    engine = engine_from_config(settings, prefix="sqlalchemy.", **options)
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine, in_memory=url.database in (None, "", ":memory:"))
    return engine


def _configure_sqlite(engine: Engine, in_memory: bool) -> None:
    """Make SQLite enforce foreign keys and honour SAVEPOINT and transactional DDL."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        # The sqlite3 module's own transaction handling breaks SAVEPOINT; let SQLAlchemy
        # emit BEGIN itself (see "Serializable isolation / Savepoints" in SQLAlchemy's docs).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory:
            # Readers do not block the writer: the web threads and the in-process worker share
            # the file.
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(_WRITE_LOCK_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def for_writes(bind: Engine | Connection | None) -> Engine | Connection | None:
    """``bind`` for a transaction that may write: on a SQLite engine, the same engine (same
    pool) with transactions that begin ``BEGIN IMMEDIATE``; anything else unchanged (a
    connection already in a transaction, as in the tests, keeps the way it began)."""
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        return bind.execution_options(**{_WRITE_LOCK_OPTION: True})
    return bind


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
) -> Session:
    """A session joined to ``transaction_manager``: committed or aborted with it, never by hand.

    ``request`` (if any) and ``transaction_manager`` are kept in ``session.info``, so listeners
    can tell who acts and code given only the session (such as ``enqueue``) can hook into its
    transaction. ``writes=False`` promises that the transaction only reads: on SQLite it then
    begins deferred and runs beside the writer instead of queueing for the write lock.
    """
    bind = session_factory.kw.get("bind")
    dbsession = session_factory(
        bind=for_writes(bind) if writes else bind,
        info={"request": request, "transaction_manager": transaction_manager},
    )
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


@contextmanager
def transaction_scope(registry) -> Iterator[Session]:
    """A session in its own transaction, for scripts and jobs: commits on success, aborts on error.

    The transaction may write: on SQLite it holds the write lock from its first statement to
    its end, so keep it short (do slow work, such as rendering a file, before or after it).

    ``registry`` is the application's registry (from ``configure()`` or ``bootstrap()``), so the
    session comes from the same factory, and follows the same rules, as a request's.
    """
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        yield get_tm_session(registry["dbsession_factory"], manager)
