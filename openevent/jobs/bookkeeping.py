"""The jobs' bookkeeping writes, batched: one short transaction for many deliveries and sends.

Each message a worker starts is counted in ``job_deliveries`` before its job runs (see
:class:`openevent.jobs.broker.DeliveryCounter`), and each message sent after a commit is marked
sent in ``outbox``. One committed transaction each would cost as much as the jobs themselves
(and, on SQLite, one more turn at the write lock each). Instead every thread hands its write to
the process's :class:`BookkeepingWriter` and waits: one of them writes whatever has been handed
over, in one transaction, and answers each waiter once it has committed; what arrives meanwhile
goes into the next transaction (a *group commit*).

Nothing is weaker than with one transaction each: a worker starts a job only after its
delivery is committed, and a caller returns from :meth:`BookkeepingWriter.mark_sent` only after
the marks are committed. A process that dies while its write waits (or while it is written)
has not started the job (so no death goes uncounted: the delivery that died was committed
before it started) or has not marked the message sent (so the relay sends it again, which
at-least-once allows). Nor is anything slower when the process is idle: the writer starts on
the first write handed over, without waiting to fill a batch.

The writes need not survive the machine, only the process: they commit without waiting for the
disk (PostgreSQL ``synchronous_commit = off``, SQLite ``synchronous = NORMAL``), which is
what makes them cheap. A committed write is visible to every process at once; a database server
or machine that crashes may forget the last ones, which counts a delivery less (or sends a
message again). The writer keeps a connection of its own on which each statement is a
transaction of its own, committed as it ends (one round, no ``BEGIN``/``COMMIT``): on PostgreSQL
in autocommit mode; on SQLite outside any transaction, while it holds the process's write turn
in the jobs' lane (:class:`openevent.db.Lane`, :func:`openevent.db.sqlite.autocommit_turn`).
The counts of a batch are one statement (up to 500), so they commit or fail together, before
the sent marks: they are answered once their statement committed, whatever happens to the marks.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from contextlib import contextmanager

import zope.sqlalchemy
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from openevent.db import Lane, transaction_scope, utcnow
from openevent.db.sqlite import autocommit_turn

log = logging.getLogger(__name__)

WRITER_KEY = "openevent.jobs.bookkeeping_writer"
# Rows per statement: every database takes this many bound parameters in one statement.
CHUNK = 500
# How long the writer keeps its connection after its last batch (see BookkeepingWriter._linger).
LINGER_SECONDS = 1.0

_creating = threading.Lock()


def bookkeeping_writer(registry) -> BookkeepingWriter:
    """The app's writer in this process."""
    writer = registry.get(WRITER_KEY)
    if writer is None or writer.pid != os.getpid():
        with _creating:
            writer = registry.get(WRITER_KEY)
            if writer is None or writer.pid != os.getpid():
                writer = registry[WRITER_KEY] = BookkeepingWriter(registry)
    return writer


class BookkeepingWriter:
    """Writes delivery counts and sent marks for many threads, a batch at a time.

    No thread of its own: the first thread to hand over a write while none is being written
    writes the batch (its own and whatever the others hand over until it has begun); the
    others wait for it, and one of those left over writes the next batch. Waking a thread costs
    more than the write on a busy machine, so the writer is whoever is there already, and each
    waiting thread is woken once: with its outcome, or to write the next batch (the first of
    those left over, when the batch before ends).
    """

    def __init__(self, registry):
        self.registry = registry
        self.pid = os.getpid()
        self._mutex = threading.Lock()
        self._deliveries: list[_Waiter] = []
        self._sent: list[_Waiter] = []
        self._writing = False  # a thread writes a batch, or has been given the turn to
        self._connection: Connection | None = None  # kept while writes keep coming
        self._last_batch = 0.0  # when the last batch ended (time.monotonic())
        self._lingering = False  # a thread gives the connection back once idle
        self.batches = 0  # written so far (tests and benchmarks)

    def count_delivery(self, message_id: str) -> int:
        """Add one delivery of ``message_id``; return its deliveries so far, once committed."""
        return self._submit(self._deliveries, message_id)

    def mark_sent(self, message_ids: list[str]) -> None:
        """Mark the outbox rows of ``message_ids`` sent; return once committed."""
        if message_ids:
            self._submit(self._sent, list(message_ids))

    def _submit(self, queue: list, item):
        waiter = _Waiter(item)
        with self._mutex:
            queue.append(waiter)
            waits, self._writing = self._writing, True
        # Woken once: with the outcome, or (waiter.turn) to write the next batch, which holds
        # this thread's write (handed over, not yet taken).
        if waits and not waiter.wait():
            return waiter.outcome()
        try:
            self._write_batch()
        except Exception:  # its waiters know (this thread among them)
            self._close()
        finally:
            self._hand_over()
        return waiter.outcome()

    def _hand_over(self) -> None:
        """After a batch: the turn to the first thread whose write is still waiting (one thread
        woken), or free."""
        with self._mutex:
            self._last_batch = time.monotonic()
            pending = self._deliveries or self._sent
            if not pending:
                self._writing = False
                return
            pending[0].give_turn()

    def _linger(self) -> None:
        """Give the connection back to the pool once no batch has been written for
        :data:`LINGER_SECONDS` (a thread of its own, while a connection is kept).

        Taking a connection from the pool and giving it back for each batch would cost as
        much as the batch's write, and batches come one after another while jobs run, with
        gaps of a moment between them when no thread is counting.
        """
        while True:
            time.sleep(LINGER_SECONDS)
            with self._mutex:
                if self._writing or time.monotonic() - self._last_batch < LINGER_SECONDS:
                    continue
                self._lingering = False
                self._close()
                return

    def _write_batch(self) -> None:
        taken = None
        for attempt in (1, 2):
            counted, atomic, fresh = None, True, self._connection is None
            try:
                with self._transaction() as (connection, atomic):
                    # Begun (on SQLite: the write lock taken) before taking what was handed
                    # over until then: a write waits for one batch at most.
                    if taken is None:
                        taken = self._take()
                    deliveries, sent = taken
                    counted = _count(connection, [w.item for w in deliveries])
                    if not atomic:  # committed already, whatever happens to the marks
                        _resolve_counts(deliveries, counted)
                    _mark_sent(connection, [i for w in sent for i in w.item])
            except BaseException as exc:
                if (
                    attempt == 1
                    and not fresh
                    and counted is None
                    and isinstance(exc, DBAPIError)
                    and exc.connection_invalidated
                ):
                    # The connection kept from an earlier batch was lost (a database
                    # restart): once more on a new one.
                    self._close()
                    continue
                deliveries, sent = taken if taken is not None else self._take()
                if counted is None or atomic:
                    for waiter in deliveries:
                        waiter.fail(exc)
                for waiter in sent:
                    waiter.fail(exc)
                raise
            break
        self.batches += 1
        if atomic:
            _resolve_counts(deliveries, counted)
        for waiter in sent:
            waiter.resolve(None)

    def _take(self) -> tuple[list, list]:
        with self._mutex:
            taken = list(self._deliveries), list(self._sent)
            # Emptied, not replaced: a thread may hold the list it is about to append to
            # (count_delivery and mark_sent name it before taking the lock).
            self._deliveries.clear()
            self._sent.clear()
        return taken

    @contextmanager
    def _transaction(self):
        """``(connection, atomic)``: the batch's transaction, or (PostgreSQL) a connection in
        autocommit mode, where each statement commits on its own."""
        bind = self.registry["dbsession_factory"].kw["bind"]
        if isinstance(bind, Connection):
            # The tests': one connection in a transaction, joined through the session as
            # every other transaction of the app joins it.
            with transaction_scope(self.registry, lane=Lane.JOB) as dbsession:
                connection = dbsession.connection()
                zope.sqlalchemy.mark_changed(dbsession)
                yield connection, True
            return
        if self._connection is None:
            self._connection = self._connect(bind)
            with self._mutex:
                if not self._lingering:
                    self._lingering = True
                    threading.Thread(
                        target=self._linger, name="openevent-bookkeeping", daemon=True
                    ).start()
        connection = self._connection
        if connection.dialect.name == "postgresql":
            yield connection, False
            connection.commit()  # ends SQLAlchemy's transaction; the statements committed
        else:
            # The write turn in the jobs' lane, each statement committing on its own, without a
            # disk sync.
            with autocommit_turn(connection, Lane.JOB, durable=False) as dbapi_connection:
                yield _Autocommit(connection.dialect, dbapi_connection), False

    def _connect(self, engine) -> Connection:
        if engine.dialect.name != "postgresql":
            return engine.connect()  # never in a transaction: see _transaction
        # Autocommit (reset when the connection goes back to the pool), without waiting for
        # the disk (reset in _close).
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("SET synchronous_commit TO OFF")
        connection.commit()
        return connection

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if connection.dialect.name == "postgresql" and not connection.invalidated:
                connection.exec_driver_sql("RESET synchronous_commit")
                connection.commit()
        except Exception:
            connection.invalidate()  # not back to the pool with the setting
        finally:
            connection.close()


class _Waiter:
    """One thread's write handed over, and its way to wake that thread: once with the outcome,
    or first with the turn to write a batch (then once more with the outcome, which that thread
    sets itself)."""

    __slots__ = ("_error", "_result", "_wake", "item", "turn")

    def __init__(self, item):
        self.item = item
        self.turn = False
        self._result = None
        self._error: BaseException | None = None
        self._wake = threading.Lock()
        self._wake.acquire()  # released to wake the thread: once per wait

    def wait(self) -> bool:
        """Until woken; whether for the turn to write."""
        self._wake.acquire()
        return self.turn

    def give_turn(self) -> None:
        self.turn = True
        self._wake.release()

    def resolve(self, result) -> None:
        self._result = result
        self.turn = False
        self._wake.release()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self.turn = False
        self._wake.release()

    def outcome(self):
        if self._error is not None:
            raise self._error
        return self._result


class _Autocommit:
    """A SQLite DBAPI connection in no transaction, with the little of
    :class:`sqlalchemy.Connection` that :func:`_count` and :func:`_mark_sent` use: each
    statement commits as it ends."""

    def __init__(self, dialect, dbapi_connection):
        self.dialect = dialect
        self._dbapi_connection = dbapi_connection

    def exec_driver_sql(self, sql: str, parameters=()) -> list:
        cursor = self._dbapi_connection.execute(sql, parameters)
        try:
            return cursor.fetchall()  # to the statement's end, where it commits
        finally:
            cursor.close()


def _resolve_counts(deliveries: list[_Waiter], before: Counter) -> None:
    for waiter in deliveries:
        before[waiter.item] += 1
        waiter.resolve(before[waiter.item])


def driver_sql(connection: Connection, sql: str, rows: int, per_row: int) -> str:
    """``sql`` with ``{values}`` replaced by ``rows`` tuples of ``per_row`` placeholders, in the
    driver's style: statements this simple skip SQLAlchemy's compiler, which costs more here
    than the database."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    row = "(" + ", ".join([mark] * per_row) + ")"
    return sql.format(values=", ".join([row] * rows), mark=mark)


def stored_timestamp(connection: Connection, value):
    # As openevent.db.UTCDateTime stores it: naive UTC text on SQLite.
    if connection.dialect.name == "sqlite":
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


_COUNT_SQL = (
    "INSERT INTO job_deliveries (message_id, deliveries, last_delivered_at) VALUES {values}"
    " ON CONFLICT (message_id) DO UPDATE SET"
    " deliveries = job_deliveries.deliveries + excluded.deliveries,"
    " last_delivered_at = excluded.last_delivered_at"
    " RETURNING message_id, deliveries"
)
_SENT_SQL = "UPDATE outbox SET sent_at = {mark} WHERE message_id IN ({marks})"


def _count(connection: Connection, message_ids: list[str]) -> Counter:
    """Add one delivery per item of ``message_ids`` (a message may come more than once);
    return, per message, its deliveries before."""
    before: Counter = Counter()
    added = Counter(message_ids)
    # In one order in every process, so two writers never wait for each other's rows.
    names = sorted(added)
    now = stored_timestamp(connection, utcnow())
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        parameters = tuple(v for m in chunk for v in (m, added[m], now))
        sql = driver_sql(connection, _COUNT_SQL, len(chunk), 3)
        for message_id, total in connection.exec_driver_sql(sql, parameters):
            before[message_id] = total - added[message_id]
    return before


def _mark_sent(connection: Connection, message_ids: list[str]) -> None:
    ids = sorted(set(message_ids))
    now = stored_timestamp(connection, utcnow())
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        sql = _SENT_SQL.format(mark=mark, marks=", ".join([mark] * len(chunk)))
        connection.exec_driver_sql(sql, (now, *chunk))
