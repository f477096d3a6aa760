"""The jobs' bookkeeping writes, batched: one short transaction for many deliveries and sends.

Each message a worker starts is counted in ``job_deliveries`` before its job runs (see
:class:`openevent.jobs.broker.DeliveryCounter`), and each message sent after a commit is marked
sent in ``outbox``. One committed transaction each would cost as much as the jobs themselves
(and, on SQLite, one more turn at the write lock each). Instead every thread hands its write to
the process's :class:`BookkeepingWriter` and waits: a thread of the writer's own writes
whatever has been handed over, in one transaction, and answers each waiter once it has
committed; what arrives meanwhile goes into the next transaction (a *group commit*).

Nothing is weaker than with one transaction each: a worker starts a job only after its
delivery is committed, and a caller returns from :meth:`BookkeepingWriter.mark_sent` only after
the marks are committed. A process that dies while its write waits (or while it is written)
has not started the job (so no death goes uncounted: the delivery that died was committed
before it started) or has not marked the message sent (so the relay sends it again, which
at-least-once allows). Nor is anything slower when the process is idle: the writer starts on
the first write handed over, without waiting to fill a batch.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from concurrent.futures import Future

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openevent.db import Lane, transaction_scope, utcnow
from openevent.models import JobDelivery, OutboxMessage

log = logging.getLogger(__name__)

WRITER_KEY = "openevent.jobs.bookkeeping_writer"
# Rows per statement: every database takes this many bound parameters in one statement.
CHUNK = 500
# The writer's thread ends after this long without work, and starts again on the next write
# (apps built and dropped in one process, as in tests, leave no thread behind).
IDLE_SECONDS = 5.0

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
    """Writes delivery counts and sent marks for many threads in one transaction at a time."""

    def __init__(self, registry):
        self.registry = registry
        self.pid = os.getpid()
        self._condition = threading.Condition()
        self._deliveries: list[tuple[str, Future]] = []
        self._sent: list[tuple[list[str], Future]] = []
        self._thread: threading.Thread | None = None
        self.transactions = 0  # committed so far (tests and benchmarks)

    def count_delivery(self, message_id: str) -> int:
        """Add one delivery of ``message_id``; return its deliveries so far, once committed."""
        future: Future = Future()
        self._hand_over(self._deliveries, (message_id, future))
        return future.result()

    def mark_sent(self, message_ids: list[str]) -> None:
        """Mark the outbox rows of ``message_ids`` sent; return once committed."""
        if message_ids:
            future: Future = Future()
            self._hand_over(self._sent, (list(message_ids), future))
            future.result()

    def _hand_over(self, queue: list, item) -> None:
        with self._condition:
            queue.append(item)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="openevent-bookkeeping", daemon=True
                )
                self._thread.start()
            else:
                self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                if not (self._deliveries or self._sent):
                    self._condition.wait(IDLE_SECONDS)
                if not (self._deliveries or self._sent):
                    self._thread = None
                    return
            taken: tuple[list, list] | None = None
            try:
                with transaction_scope(self.registry, lane=Lane.JOB) as dbsession:
                    # Begin first (on SQLite: wait for the write lock), then take what was
                    # handed over until then: a write waits for one transaction at most.
                    dbsession.connection()
                    taken = self._take()
                    deliveries, sent = taken
                    counts = _write(
                        dbsession, [m for m, _ in deliveries], [i for ids, _ in sent for i in ids]
                    )
            except BaseException as exc:  # every waiter learns of it; the thread goes on
                deliveries, sent = taken if taken is not None else self._take()
                for _, future in (*deliveries, *sent):
                    future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            self.transactions += 1
            for message_id, future in deliveries:
                counts[message_id] += 1
                future.set_result(counts[message_id])
            for _, future in sent:
                future.set_result(None)

    def _take(self) -> tuple[list, list]:
        with self._condition:
            taken = self._deliveries, self._sent
            self._deliveries, self._sent = [], []
        return taken


def _write(dbsession, deliveries: list[str], sent: list[str]) -> Counter:
    """Count ``deliveries`` (a message may come more than once) and mark ``sent``, in the
    session's transaction. Returns, per message, its deliveries before this transaction."""
    before: Counter = Counter()
    added = Counter(deliveries)
    # In one order in every process, so two writers never wait for each other's rows.
    names = sorted(added)
    dialect = dbsession.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    for start in range(0, len(names), CHUNK):
        statement = insert(JobDelivery).values(
            [
                {"message_id": m, "deliveries": added[m], "last_delivered_at": now}
                for m in names[start : start + CHUNK]
            ]
        )
        statement = statement.on_conflict_do_update(
            index_elements=[JobDelivery.message_id],
            set_={
                "deliveries": JobDelivery.deliveries + statement.excluded.deliveries,
                "last_delivered_at": now,
            },
        ).returning(JobDelivery.message_id, JobDelivery.deliveries)
        for message_id, total in dbsession.execute(statement):
            before[message_id] = total - added[message_id]
    ids = sorted(set(sent))
    for start in range(0, len(ids), CHUNK):
        dbsession.execute(
            update(OutboxMessage)
            .where(OutboxMessage.message_id.in_(ids[start : start + CHUNK]))
            .values(sent_at=now)
        )
    return before
