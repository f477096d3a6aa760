"""Enqueueing through the outbox: a message is stored with the transaction, sent after commit.

The message is written to ``outbox`` in the caller's transaction, so it exists if and only if
the transaction commits. After the commit it goes to the broker and its row is marked sent.
If the broker cannot take it then, the row stays unsent and :func:`relay_outbox` sends it
later: a message may be delivered twice, never lost.

The rows of one transaction are written together, in a statement of up to 500 rows, at its
session's next flush or as it commits, rather than as ORM objects: a request or job that
enqueues many jobs pays a round trip per 500, not one ORM object and one flushed row each.
"""

from __future__ import annotations

import logging
import weakref
from datetime import timedelta

import dramatiq
from sqlalchemy import delete, event, select
from transaction.interfaces import NoTransaction
from zope.sqlalchemy import mark_changed

from openevent.db import Lane, transaction_scope, utcnow
from openevent.jobs.bookkeeping import bookkeeping_writer, driver_sql, stored_timestamp
from openevent.jobs.broker import BROKER_KEY, EVENT_OPTION, PLUGIN_OPTION, actor_for
from openevent.jobs.definitions import Job
from openevent.models import JobDelivery, OutboxMessage
from openevent.plugins import plugin_of

log = logging.getLogger(__name__)

# Sent rows are kept a while for operators to inspect, then purged by the relay.
SENT_RETENTION = timedelta(days=7)
_RELAY_BATCH = 500
# Key of a transaction's pending messages in ``transaction.data()``.
_PENDING_KEY = "openevent.jobs.pending"
_OUTBOX_COLUMNS = ("message_id", "queue_name", "actor_name", "plugin", "event_id", "message")
_INSERT_SQL = (
    f"INSERT INTO {OutboxMessage.__tablename__} ({', '.join(_OUTBOX_COLUMNS)}, created_at)"
    " VALUES {values}"
)
# Rows per statement: 7 values each, well under what every database binds in one statement.
_INSERT_CHUNK = 500


def enqueue(dbsession, job: Job, *args, event_id: int | None = None, **kwargs) -> str:
    """Enqueue ``job(*args, **kwargs)`` when ``dbsession``'s transaction commits; return the
    message id.

    Arguments must be JSON-encodable (ids and plain values): anything else raises ``TypeError``
    here. ``event_id`` names the event the job acts for, so it is skipped if its plugin gets
    disabled for that event; the job reads it as ``context.event_id``.
    """
    registry = dbsession.info["registry"]
    actor = actor_for(registry, job)
    options = {}
    plugin = plugin_of(registry, job.fn)
    if plugin is not None:
        options[PLUGIN_OPTION] = plugin
    if event_id is not None:
        options[EVENT_OPTION] = event_id
    message = dramatiq.Message(
        queue_name=actor.queue_name,
        actor_name=actor.actor_name,
        args=args,
        kwargs=kwargs,
        options=options,
    )
    # The outbox row's values but its creation time, in the order of _OUTBOX_COLUMNS.
    row = (
        message.message_id,
        message.queue_name,
        message.actor_name,
        plugin,
        event_id,
        message.encode(),
    )
    _pending(dbsession, registry).add(message, row)
    return message.message_id


class _Pending:
    """What one transaction enqueued: its messages, sent once it has committed, and their
    outbox rows, written together at the session's next flush or as the transaction commits.

    A savepoint rolled back takes back what was enqueued inside it (:func:`track_savepoints`):
    its messages are never sent, and rows it had written, undone by the database, are no
    longer counted as written.
    """

    def __init__(self, dbsession):
        self.dbsession = dbsession
        self._entries: list[tuple[dramatiq.Message, tuple]] = []
        self._written = 0  # the entries whose rows are in the transaction
        self._committing = False

    @property
    def messages(self) -> list[dramatiq.Message]:
        return [message for message, _ in self._entries]

    def add(self, message: dramatiq.Message, row: tuple) -> None:
        self._entries.append((message, row))
        if self._committing:
            # Enqueued by a before-commit hook that runs after ours (a change subscriber's,
            # say): written at once, still in the transaction.
            self.write()

    def write(self) -> None:
        rows = [row for _, row in self._entries[self._written :]]
        self._written = len(self._entries)
        if not rows:
            return
        # In the driver's own terms, a few statements of many rows each: SQLAlchemy's insert
        # would process every value of every row (most of an enqueue's cost), and on
        # PostgreSQL the driver's executemany is a round trip per row.
        connection = self.dbsession.connection()
        created_at = stored_timestamp(connection, utcnow())
        per_row = len(_OUTBOX_COLUMNS) + 1
        for start in range(0, len(rows), _INSERT_CHUNK):
            chunk = rows[start : start + _INSERT_CHUNK]
            sql = driver_sql(connection, _INSERT_SQL, len(chunk), per_row)
            connection.exec_driver_sql(sql, tuple(v for row in chunk for v in (*row, created_at)))
        # Written past the ORM: the transaction manager must be told (see docs/jobs.md).
        mark_changed(self.dbsession)

    def before_commit(self) -> None:
        self._committing = True
        self.write()

    def mark(self) -> tuple[int, int]:
        """Where things stand as a savepoint begins."""
        return len(self._entries), self._written

    def roll_back_to(self, mark: tuple[int, int]) -> None:
        self._entries[mark[0] :] = []
        self._written = mark[1]


def _current_pending(dbsession) -> _Pending | None:
    """The :class:`_Pending` of the session's transaction, if it enqueued anything yet."""
    manager = dbsession.info.get("transaction_manager")
    if manager is None:
        return None
    try:
        pending = manager.get().data(_PENDING_KEY)
    except (KeyError, NoTransaction):
        return None
    return pending if pending.dbsession is dbsession else None


def write_pending_before_flush(dbsession, flush_context, instances) -> None:
    """A session's flush writes the outbox rows enqueued so far with its other changes, so that
    the transaction's own queries see them (a change subscriber counting them, say)."""
    if (pending := _current_pending(dbsession)) is not None:
        pending.write()


# Savepoint (a nested SessionTransaction) -> the mark of its session's pending jobs at its start.
_SAVEPOINT_MARKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _savepoint_began(dbsession, session_transaction) -> None:
    if session_transaction.nested:
        pending = _current_pending(dbsession)
        _SAVEPOINT_MARKS[session_transaction] = pending.mark() if pending else (0, 0)


def _savepoint_rolled_back(dbsession, session_transaction) -> None:
    mark = _SAVEPOINT_MARKS.pop(session_transaction, None)
    pending = _current_pending(dbsession) if mark is not None else None
    if pending is not None:
        pending.roll_back_to(mark)


def track_savepoints(session_factory) -> None:
    """Listen on ``session_factory`` so that the jobs a rolled-back savepoint enqueued are
    dropped with it: ``with dbsession.begin_nested(): ...`` that fails sends nothing."""
    event.listen(session_factory, "after_transaction_create", _savepoint_began)
    event.listen(session_factory, "after_soft_rollback", _savepoint_rolled_back)


def _pending(dbsession, registry) -> _Pending:
    """The session's transaction's :class:`_Pending`, created with its hooks on first use."""
    transaction = dbsession.info["transaction_manager"].get()
    try:
        return transaction.data(_PENDING_KEY)
    except KeyError:
        pending = _Pending(dbsession)
        transaction.set_data(_PENDING_KEY, pending)
        transaction.addBeforeCommitHook(pending.before_commit)
        transaction.addAfterCommitHook(_send_after_commit, args=(registry, pending))
        return pending


def _send_after_commit(committed: bool, registry, pending: _Pending) -> None:
    if not committed:
        return
    messages = pending.messages
    broker = registry[BROKER_KEY]
    sent = []
    for message in messages:
        try:
            broker.enqueue(message)
        except Exception:
            log.warning(
                "could not send job message %s (and %d after it) to the broker; the outbox "
                "relay will resend them",
                message.message_id,
                len(messages) - len(sent) - 1,
                exc_info=True,
            )
            break
        sent.append(message.message_id)
    try:
        # One short transaction marks them all, with what other threads of the process mark
        # (and the deliveries their workers count) meanwhile: see openevent.jobs.bookkeeping.
        bookkeeping_writer(registry).mark_sent(sent)
    except Exception:
        # Sent but not marked: the relay will send them again, which at-least-once allows.
        log.warning("could not mark %d job message(s) sent", len(sent), exc_info=True)


def relay_outbox(registry, grace: timedelta | None = None) -> int:
    """Send outbox messages older than ``grace`` that are not confirmed sent; return how many.

    ``grace`` (default: ``openevent.jobs.relay_grace_seconds``) leaves time for the
    after-commit send of recent messages. Stops at the first broker error, keeping what was
    sent so far marked.
    """
    if grace is None:
        grace = timedelta(seconds=registry.settings["openevent.jobs.relay_grace_seconds"])
    broker = registry[BROKER_KEY]
    sent = 0
    now = utcnow()
    with transaction_scope(registry, lane=Lane.JOB) as dbsession:
        rows = dbsession.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.created_at <= now - grace)
            .order_by(OutboxMessage.id)
            .limit(_RELAY_BATCH)
            # Two relays (two worker processes) do not send the same rows at the same time.
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            message = dramatiq.Message.decode(row.message)
            if message.actor_name not in broker.actors:
                log.warning(
                    "outbox message %s is for unknown job %s; left unsent",
                    row.message_id,
                    row.actor_name,
                )
                continue
            try:
                broker.enqueue(message)
            except Exception:
                log.warning("broker unavailable; outbox relay stops for now", exc_info=True)
                break
            row.sent_at = utcnow()
            sent += 1
        dbsession.execute(delete(OutboxMessage).where(OutboxMessage.sent_at < now - SENT_RETENTION))
        dbsession.execute(
            delete(JobDelivery).where(JobDelivery.last_delivered_at < now - SENT_RETENTION)
        )
    if sent:
        log.info("relayed %d job message(s) from the outbox", sent)
    return sent
