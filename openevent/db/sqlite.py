"""SQLite as the embedded default: pragmas, and one writer at a time without "database is locked".

In WAL mode readers never wait, but there is one write lock. A transaction that began with a
plain (deferred) ``BEGIN``, read, and then writes asks for that lock while holding a snapshot;
if another connection holds the lock, or has committed since the snapshot was taken, SQLite
answers "database is locked" at once: ``busy_timeout`` does not apply, since waiting could
never help. So a transaction that may write (see :func:`for_writes`) begins with
``BEGIN IMMEDIATE``: it takes the write lock before its first read and, while another
connection holds it, waits for it. Read-only transactions (GET requests) keep a deferred
``BEGIN`` and read a snapshot beside the writer.

Writers of one process (the web threads, the in-process worker) wait their turn in a queue
before asking SQLite: SQLite's own wait is a loop of sleeps (up to 100 ms) that, under a steady
stream of writers, lets newcomers overtake the writer that has waited longest, past any
timeout. The queue is first come, first served, with the work that follows a commit already
made (jobs, then the outbox after a request's commit) before new requests: see :class:`Lane`.
Writers in other processes (``openevent`` commands, a second server on the same file) still
meet at SQLite's lock, waiting up to :data:`BUSY_TIMEOUT_MS` there.
"""

from __future__ import annotations

import enum
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError, OperationalError

# How long a writer waits for its turn (in the queue, then at SQLite's lock) before its
# transaction fails with "database is locked" (a request then answers 503 with Retry-After after
# pyramid_retry's attempts; a job is retried with backoff). Long enough for a burst of slow
# writers ahead (a login hashes its password inside its transaction), short enough that a
# writer stuck elsewhere (a sqlite3 shell left in a transaction) shows up as errors rather
# than as requests hanging without end.
BUSY_TIMEOUT_MS = 10_000
# The execution option that makes a transaction begin with BEGIN IMMEDIATE (see for_writes):
# its value is the Lane it waits in.
_WRITES = "openevent_sqlite_writes"
# Key in a pooled connection's ``info``: this connection is the writer whose turn it is.
_HAS_TURN = "openevent.sqlite_has_turn"
# The execution option that lets a writing transaction commit without waiting for the disk
# (see for_writes), and the key in a pooled connection's ``info`` of its current level.
_RELAXED = "openevent_sqlite_relaxed"
_SYNCHRONOUS = "openevent.sqlite_synchronous"
# Key in a pooled connection's ``info``: the process's WriterQueue of its engine.
_QUEUE = "openevent.sqlite_writer_queue"


class Lane(enum.IntEnum):
    """Where a writer of the process waits for SQLite's write lock: the turn goes to the
    longest waiting writer of the first lane that has one.

    Work that follows a commit already made goes before new work, so it keeps up: in one fair
    queue a request would wait its turn again for each of its follow-ups, and the one worker
    thread of the in-process worker would fall behind the many request threads for as long as
    they keep coming. Each lane's work comes from commits made in the lanes after it, so those
    are never starved.
    """

    JOB = 0  # a worker's: running a job, counting or recording its deliveries, the relay
    FOLLOW_UP = 1  # after a request's commit: enqueueing its changes' jobs, marking them sent
    NEW = 2  # a request, a script, a migration


class WriterQueue:
    """A lock handed to its waiters lane by lane (see :class:`Lane`), in the order they came."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._lanes: tuple[deque[threading.Lock], ...] = tuple(deque() for _ in Lane)
        self._taken = False

    def acquire(self, timeout: float, lane: Lane = Lane.NEW) -> bool:
        """Wait up to ``timeout`` seconds for the turn; False if it did not come."""
        with self._mutex:
            if not self._taken:
                self._taken = True
                return True
            turn = threading.Lock()
            turn.acquire()
            waiting = self._lanes[lane]
            waiting.append(turn)
        if turn.acquire(timeout=timeout):
            return True
        with self._mutex:
            if turn in waiting:
                waiting.remove(turn)
                return False
        return True  # handed over between the timeout and the mutex: the turn is ours

    def release(self) -> None:
        """Hand the turn to the next writer, or free it."""
        with self._mutex:
            for waiting in self._lanes:
                if waiting:
                    waiting.popleft().release()
                    return
            self._taken = False


def configure_sqlite(engine: Engine, in_memory: bool) -> None:
    """Make SQLite enforce foreign keys, honour SAVEPOINT and transactional DDL, let readers
    run beside the writer, and begin transactions that may write with the write lock."""
    queue = WriterQueue()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        # The sqlite3 module's own transaction handling breaks SAVEPOINT; let SQLAlchemy
        # emit BEGIN itself (see "Serializable isolation / Savepoints" in SQLAlchemy's docs).
        dbapi_connection.isolation_level = None
        connection_record.info[_QUEUE] = queue
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not in_memory:
            # Readers do not block the writer: the web threads and the in-process worker share
            # the file.
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    # On the driver's connection: SQLAlchemy's execution of a statement (its context, cursor
    # and events) costs more than SQLite's BEGIN, and every request and job begins one.
    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection):
        options = connection.get_execution_options()
        execute = _driver_execute(connection)
        lane = options.get(_WRITES)
        if lane is None:
            execute("BEGIN")
            return
        _take_turn(queue, Lane(lane), "BEGIN IMMEDIATE")
        connection.info[_HAS_TURN] = True
        try:
            _set_durability(connection.info, execute, durable=not options.get(_RELAXED))
            execute("BEGIN IMMEDIATE")
        except BaseException:
            _on_end(connection)
            raise

    def _pass_turn(info) -> None:
        if info.pop(_HAS_TURN, False):
            queue.release()

    # Just before the COMMIT or ROLLBACK: the next writer's BEGIN IMMEDIATE may find SQLite's
    # lock still held for a moment, and waits that moment at SQLite's lock.
    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection: Connection):
        if not connection.invalidated:  # else it has no connection: see _on_invalidate
            _pass_turn(connection.info)

    # A connection given back without ending its transaction (garbage collected), or dropped
    # (invalidated): the pool rolls it back or closes it without the events above.
    @event.listens_for(engine.pool, "reset")
    def _on_reset(dbapi_connection, connection_record, reset_state):
        if connection_record is not None:
            _pass_turn(connection_record.info)

    @event.listens_for(engine.pool, "invalidate")
    def _on_invalidate(dbapi_connection, connection_record, exception):
        _pass_turn(connection_record.info)


@contextmanager
def autocommit_turn(
    connection: Connection, lane: Lane = Lane.NEW, *, durable: bool = True
) -> Iterator[sqlite3.Connection]:
    """The DBAPI connection of ``connection`` (of a SQLite engine, in no transaction), while it
    holds the process's write turn in ``lane``: each statement run on it is a transaction of its
    own (the driver begins none), committed when the statement ends. One statement then costs
    one round, without the ``BEGIN IMMEDIATE`` and ``COMMIT`` of a transaction (which a single
    statement does not need to be atomic). ``durable=False``: see :func:`for_writes`.
    """
    queue: WriterQueue = connection.info[_QUEUE]
    _take_turn(queue, lane, "autocommit")
    try:
        dbapi_connection = connection.connection.dbapi_connection
        _set_durability(connection.info, dbapi_connection.execute, durable)
        yield dbapi_connection
    finally:
        queue.release()


def _driver_execute(connection: Connection):
    """A function running one statement on ``connection``'s driver connection, whose errors
    are SQLAlchemy's, as those of statements that SQLAlchemy runs."""
    dbapi_connection = connection.connection.dbapi_connection

    def execute(statement: str) -> None:
        try:
            dbapi_connection.execute(statement).close()
        except sqlite3.Error as exc:
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc

    return execute


def _take_turn(queue: WriterQueue, lane: Lane, statement: str) -> None:
    """The process's write turn in ``lane``, or SQLite's own "database is locked" error once
    a writer has waited as long as SQLite would."""
    if not queue.acquire(timeout=BUSY_TIMEOUT_MS / 1000, lane=lane):
        raise OperationalError(statement, None, sqlite3.OperationalError("database is locked"))


def _set_durability(info, execute, durable: bool) -> None:
    """SQLite's default (FULL) syncs the log to disk at each commit; NORMAL does not, and a
    commit then survives the process dying but not the machine. The level cannot change inside
    a transaction: it is set before, when it differs from the connection's (kept in ``info``)."""
    level = "FULL" if durable else "NORMAL"
    if info.get(_SYNCHRONOUS, "FULL") != level:
        execute(f"PRAGMA synchronous = {level}")
        info[_SYNCHRONOUS] = level


def for_writes(
    bind: Engine | Connection | None, lane: Lane = Lane.NEW, *, durable: bool = True
) -> Engine | Connection | None:
    """``bind`` for a transaction that may write: on a SQLite engine, the same engine (same
    pool) with transactions that begin ``BEGIN IMMEDIATE`` after waiting in ``lane`` of the
    process's writer queue; anything else unchanged (a connection already in a transaction, as
    in the tests, keeps the way it began).

    ``durable=False`` (bookkeeping that may be lost with the machine, never with the process:
    see :mod:`openevent.jobs.bookkeeping`) commits without syncing the log to disk
    (``PRAGMA synchronous = NORMAL`` for that transaction); on PostgreSQL
    :func:`openevent.db.transaction_scope` sets ``synchronous_commit`` itself."""
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        return _writing_engine(bind, lane, durable)
    return bind


# Attribute of an engine: (lane, durable) -> the engine with those options, made once, as
# making one costs as much as a short transaction's statement. Engines with options share the
# engine's pool and listeners, those added later included. (Kept on the engine, which they
# refer to, so that they go with it.)
_WRITING_ENGINES = "_openevent_writing_engines"


def _writing_engine(engine: Engine, lane: Lane, durable: bool) -> Engine:
    made = engine.__dict__.setdefault(_WRITING_ENGINES, {})
    writing = made.get((lane, durable))
    if writing is None:
        options = {_WRITES: int(lane)}
        if not durable:
            options[_RELAXED] = True
        writing = made[(lane, durable)] = engine.execution_options(**options)
    return writing
