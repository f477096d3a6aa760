"""Model changes: captured per transaction, delivered to Pyramid subscribers after the commit.

A SQLAlchemy listener on the application's session factory records, flush by flush, every row of
the public models (events, event roles, tracks, microlocations, session types, speakers,
sessions, tickets, sponsors, social links) that is created, updated or deleted. When the zope
transaction commits, the records are merged per row and each row's net change is delivered, as
an instance of one of the change classes below, to the Pyramid subscribers of its class, in two
phases:

- In the committing transaction, just before the database commit (a before-commit hook of the
  zope transaction): the session is flushed, so the changes are complete, then the subscribers
  marked :func:`in_transaction` run. Their ``change.enqueue`` writes its outbox row in that
  transaction, so the job exists if and only if the changes commit, even if the process dies
  right after the commit; ``change.dbsession`` lets them write rows of their own. A subscriber
  that raises rolls the whole transaction back: what it was to do is part of it.
- After the commit, and only then: every other subscriber, for work outside the database
  (logging, caches). One that raises is logged; the others run.

An aborted transaction, a failed request and a rolled-back SAVEPOINT deliver nothing of what
they did. Every change of one transaction carries the same ``committed_at``, taken in the
first phase after the last flush of the transaction's changes.

Choices, written down for plugin authors in ``docs/changes.md``:

- A soft delete (``deleted_at`` from None to a value) is delivered as a deletion with
  ``soft=True``; a restore (``deleted_at`` back to None) as a creation with ``restored=True``.
  For a plugin a row in the trash is gone, and one restored is new again. Their ``changes``
  hold the attributes the transaction changed, ``deleted_at`` among them.
- A creation's ``changes`` hold every column as ``(None, value)``, a (hard) deletion's every
  column as ``(value, None)``, an update's the attributes that changed. The many-to-many link
  of sessions and speakers appears as ``speakers`` (on a session) and ``sessions`` (on a
  speaker), as sorted tuples of ids.
- Order: rows in the order they first changed in the transaction; rows first changed in the
  same flush as creations, then updates, then deletions, each by model (``_MODELS``'s order;
  reversed for deletions, children before parents) and id.
- Rows the database removes by itself (``ON DELETE CASCADE`` when an event is deleted for
  good) are not reported one by one: the parent's deletion stands for them.
- Bulk statements bypass the ORM and its events; code that runs them reports what they did
  with :func:`record_update` (as :mod:`openevent.ticket_positions` does) and
  :func:`record_insert` (as :mod:`openevent.importer.load` does).
- Once the first phase has read the changes, the public models must not change again in that
  transaction: a flush or :func:`record_update` of them raises, and the transaction rolls back.
  Subscribers change openevent's rows in a job, which delivers changes of its own.
"""

from __future__ import annotations

import enum
import functools
import logging
import types
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

from sqlalchemy import event, inspect, select
from transaction.interfaces import NoTransaction
from zope.interface import providedBy

from openevent import plugins
from openevent.db.session import Lane, transaction_scope
from openevent.db.types import utcnow
from openevent.models import (
    Event,
    EventRole,
    Microlocation,
    Session,
    SessionType,
    SocialLink,
    Speaker,
    Sponsor,
    Ticket,
    Track,
    session_speakers,
)
from openevent.models.mixins import stored_values

log = logging.getLogger(__name__)
# How many records the transaction log held when each SAVEPOINT began.
_savepoint_marks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

DELIVER_SETTING = "openevent.changes.deliver"
# Keys in ``session.info``.
_REGISTRY = "openevent.changes.registry"
_OLD_VALUES = "openevent.changes.old_values"
# Key of the per-transaction log in ``transaction.data()``.
_LOG_KEY = "openevent.changes.log"
# The attribute that marks a subscriber to run in the committing transaction.
_IN_TRANSACTION = "openevent_in_transaction"


def in_transaction(subscriber: Callable) -> Callable:
    """Mark a change subscriber to run in the committing transaction, just before its commit.

    Its ``change.enqueue(...)`` then writes the job's outbox row in that transaction: the job
    is sent after the commit, relayed if the process dies first, and dropped on rollback.
    ``change.dbsession`` is the transaction's session, for rows of the plugin's own. Use it as
    a decorator, or on the subscriber given to ``config.add_subscriber``::

        @in_transaction
        def on_speaker_created(change):
            change.enqueue(queue_badge, change.id)
    """
    if not isinstance(subscriber, types.FunctionType):
        # A bound method or a callable object: Pyramid's predicate wrapper copies the marks
        # of functions only (their ``__dict__``), so wrap it in one.
        target = subscriber

        @functools.wraps(target)
        def subscriber(notification):
            return target(notification)

    setattr(subscriber, _IN_TRANSACTION, True)
    return subscriber


def _runs_in_transaction(handler) -> bool:
    return getattr(handler, _IN_TRANSACTION, False)


# The change classes.


@dataclass(frozen=True)
class ModelChanged:
    """A row of a public model changed; subscribe to this class to receive every change."""

    model: ClassVar[str] = ""  # the JSON:API type, e.g. "session"
    kind: ClassVar[str] = ""  # "created", "updated" or "deleted"

    id: int
    event_id: int | None
    user_id: int | None
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    soft: bool = False  # a deletion that moved the row to the trash
    restored: bool = False  # a creation that restored the row from the trash
    # When the transaction committed (aware, UTC): the same for all its changes.
    committed_at: datetime | None = None
    # Set on delivery, infrastructure rather than data of the change: the application's
    # registry, and the committing transaction's session for subscribers that run in it
    # (None after the commit).
    registry: Any = field(default=None, compare=False, repr=False)
    dbsession: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "changes", _frozen(self.changes))

    def enqueue(self, job, *args, **kwargs) -> str:
        """Start ``job(*args, **kwargs)`` for this change's event; return the message id.

        In a subscriber marked :func:`in_transaction` the outbox row is written in the
        committing transaction. After the commit (deprecated) it takes a transaction of its
        own, and a process that dies first loses it.
        """
        return _enqueue(self, job, args, kwargs, event_id=self.event_id)


@dataclass(frozen=True)
class ChangesCommitted:
    """Every change of one transaction, delivered once after the single changes.

    For work done once per transaction rather than once per row (a plugin subscribing gets
    only the changes of events it is enabled for). ``committed_at`` is that of its changes,
    ``user_id`` the user acting when the transaction committed.
    """

    changes: tuple[ModelChanged, ...]
    committed_at: datetime | None = None
    user_id: int | None = None
    registry: Any = field(default=None, compare=False, repr=False)
    dbsession: Any = field(default=None, compare=False, repr=False)

    def enqueue(self, job, *args, event_id: int | None = None, **kwargs) -> str:
        """Start ``job(*args, **kwargs)`` (for ``event_id``, if given); see ModelChanged."""
        return _enqueue(self, job, args, kwargs, event_id=event_id)


def _enqueue(notification, job, args, kwargs, event_id):
    from openevent.jobs import enqueue  # the jobs package builds on this module

    if notification.dbsession is not None:  # in the committing transaction
        return enqueue(notification.dbsession, job, *args, event_id=event_id, **kwargs)
    warnings.warn(
        "enqueue() from a change subscriber that runs after the commit loses the job if the "
        "process dies first: mark the subscriber with openevent.changes.in_transaction",
        DeprecationWarning,
        stacklevel=3,  # the subscriber's line
    )
    with transaction_scope(notification.registry, lane=Lane.FOLLOW_UP) as dbsession:
        return enqueue(dbsession, job, *args, event_id=event_id, **kwargs)


class ModelCreated(ModelChanged):
    """A row was created, or restored from the trash (``restored=True``)."""

    kind = "created"


class ModelUpdated(ModelChanged):
    """Attributes of a row changed."""

    kind = "updated"


class ModelDeleted(ModelChanged):
    """A row was deleted, or moved to the trash (``soft=True``)."""

    kind = "deleted"


class EventChanged(ModelChanged):
    """An event (a conference) changed; ``event_id`` is its own id."""

    model = "event"


class EventCreated(EventChanged, ModelCreated):
    """An event was created or restored."""


class EventUpdated(EventChanged, ModelUpdated):
    """An event's attributes changed."""


class EventDeleted(EventChanged, ModelDeleted):
    """An event was deleted or trashed."""


class EventRoleChanged(ModelChanged):
    """A user's role on an event's team changed."""

    model = "event-role"


class EventRoleCreated(EventRoleChanged, ModelCreated):
    """A user joined an event's team."""


class EventRoleUpdated(EventRoleChanged, ModelUpdated):
    """A team member's role changed."""


class EventRoleDeleted(EventRoleChanged, ModelDeleted):
    """A user left an event's team."""


class TrackChanged(ModelChanged):
    """A track changed."""

    model = "track"


class TrackCreated(TrackChanged, ModelCreated):
    """A track was created."""


class TrackUpdated(TrackChanged, ModelUpdated):
    """A track's attributes changed."""


class TrackDeleted(TrackChanged, ModelDeleted):
    """A track was deleted."""


class MicrolocationChanged(ModelChanged):
    """A microlocation (room) changed."""

    model = "microlocation"


class MicrolocationCreated(MicrolocationChanged, ModelCreated):
    """A microlocation was created."""


class MicrolocationUpdated(MicrolocationChanged, ModelUpdated):
    """A microlocation's attributes changed."""


class MicrolocationDeleted(MicrolocationChanged, ModelDeleted):
    """A microlocation was deleted."""


class SessionTypeChanged(ModelChanged):
    """A session type changed."""

    model = "session-type"


class SessionTypeCreated(SessionTypeChanged, ModelCreated):
    """A session type was created."""


class SessionTypeUpdated(SessionTypeChanged, ModelUpdated):
    """A session type's attributes changed."""


class SessionTypeDeleted(SessionTypeChanged, ModelDeleted):
    """A session type was deleted."""


class SpeakerChanged(ModelChanged):
    """A speaker changed."""

    model = "speaker"


class SpeakerCreated(SpeakerChanged, ModelCreated):
    """A speaker was created or restored."""


class SpeakerUpdated(SpeakerChanged, ModelUpdated):
    """A speaker's attributes or sessions changed."""


class SpeakerDeleted(SpeakerChanged, ModelDeleted):
    """A speaker was deleted or trashed."""


class SessionChanged(ModelChanged):
    """A session (a talk) changed."""

    model = "session"


class SessionCreated(SessionChanged, ModelCreated):
    """A session was created or restored."""


class SessionUpdated(SessionChanged, ModelUpdated):
    """A session's attributes or speakers changed."""


class SessionDeleted(SessionChanged, ModelDeleted):
    """A session was deleted or trashed."""


class TicketChanged(ModelChanged):
    """A ticket changed."""

    model = "ticket"


class TicketCreated(TicketChanged, ModelCreated):
    """A ticket was created or restored."""


class TicketUpdated(TicketChanged, ModelUpdated):
    """A ticket's attributes changed, its position included when others moved."""


class TicketDeleted(TicketChanged, ModelDeleted):
    """A ticket was deleted or trashed."""


class SponsorChanged(ModelChanged):
    """A sponsor changed."""

    model = "sponsor"


class SponsorCreated(SponsorChanged, ModelCreated):
    """A sponsor was created."""


class SponsorUpdated(SponsorChanged, ModelUpdated):
    """A sponsor's attributes changed."""


class SponsorDeleted(SponsorChanged, ModelDeleted):
    """A sponsor was deleted."""


class SocialLinkChanged(ModelChanged):
    """One of an event's social links changed."""

    model = "social-link"


class SocialLinkCreated(SocialLinkChanged, ModelCreated):
    """A social link was created."""


class SocialLinkUpdated(SocialLinkChanged, ModelUpdated):
    """A social link's attributes changed."""


class SocialLinkDeleted(SocialLinkChanged, ModelDeleted):
    """A social link was deleted."""


# Parents before children: the order of creations (and, reversed, of deletions) in one flush.
_MODELS: dict[type, dict[str, type[ModelChanged]]] = {
    Event: {"created": EventCreated, "updated": EventUpdated, "deleted": EventDeleted},
    EventRole: {
        "created": EventRoleCreated,
        "updated": EventRoleUpdated,
        "deleted": EventRoleDeleted,
    },
    Track: {"created": TrackCreated, "updated": TrackUpdated, "deleted": TrackDeleted},
    Microlocation: {
        "created": MicrolocationCreated,
        "updated": MicrolocationUpdated,
        "deleted": MicrolocationDeleted,
    },
    SessionType: {
        "created": SessionTypeCreated,
        "updated": SessionTypeUpdated,
        "deleted": SessionTypeDeleted,
    },
    Speaker: {"created": SpeakerCreated, "updated": SpeakerUpdated, "deleted": SpeakerDeleted},
    Session: {"created": SessionCreated, "updated": SessionUpdated, "deleted": SessionDeleted},
    Ticket: {"created": TicketCreated, "updated": TicketUpdated, "deleted": TicketDeleted},
    Sponsor: {"created": SponsorCreated, "updated": SponsorUpdated, "deleted": SponsorDeleted},
    SocialLink: {
        "created": SocialLinkCreated,
        "updated": SocialLinkUpdated,
        "deleted": SocialLinkDeleted,
    },
}
_RANK = {model: rank for rank, model in enumerate(_MODELS)}
# The many-to-many link of sessions and speakers, by the relationship each side sees it as.
_LINKS = {Session: "speakers", Speaker: "sessions"}
_KIND_ORDER = {"created": 0, "updated": 1, "deleted": 2}


# Recording.


@dataclass
class _Record:
    """One row's change in one flush (or one bulk statement)."""

    model: type
    id: int
    kind: str
    event_id: int | None
    user_id: int | None
    changes: dict[str, tuple[Any, Any]]
    soft: bool = False
    restored: bool = False


@dataclass
class _Log:
    """The records of one zope transaction, in the order they were made, and its sessions."""

    records: list[_Record] = field(default_factory=list)
    # The app's sessions in the transaction; the first writes the outbox rows.
    sessions: list = field(default_factory=list)
    # Set when the changes were read before the commit: no record may be added after.
    changes: tuple[ModelChanged, ...] | None = None
    batch: ChangesCommitted | None = None


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else value


def _actor(session) -> int | None:
    request = session.info.get("request")
    if request is not None:
        return request.authenticated_userid
    return session.info.get("actor_id")


def _log_for(session) -> _Log | None:
    """This session's transaction log, created (with its before-commit hook) on first use."""
    manager = session.info.get("transaction_manager")
    registry = session.info.get(_REGISTRY)
    if manager is None or registry is None:
        return None  # not a session of the app's transactions: nothing to deliver to
    try:
        txn = manager.get()
    except NoTransaction:
        return None  # zope.sqlalchemy refuses such a session too
    try:
        changes_log = txn.data(_LOG_KEY)
    except KeyError:
        changes_log = _Log()
        txn.set_data(_LOG_KEY, changes_log)
        txn.addBeforeCommitHook(_before_commit, args=(registry, txn, changes_log))
    if session not in changes_log.sessions:
        changes_log.sessions.append(session)
    return changes_log


def _join(session, *args) -> None:
    # The before-commit hook must exist before the transaction's last flush, which it makes
    # itself: join when a session begins or is given an object, before any flush.
    _log_for(session)


def _writable_log(session) -> _Log | None:
    """The log to add this session's records to; refused once the changes were read."""
    changes_log = _log_for(session)
    if changes_log is not None and changes_log.changes is not None:
        raise RuntimeError(
            "openevent's models changed after the transaction's changes were read for its "
            "commit (by a change subscriber marked in_transaction?): change them in a job"
        )
    return changes_log


def _existing_log(session) -> _Log | None:
    manager = session.info.get("transaction_manager")
    if manager is None:
        return None
    try:
        return manager.get().data(_LOG_KEY)
    except KeyError:
        return None


def record_update(session, model: type, id: int, event_id: int | None, changes: Mapping) -> None:
    """Report that a statement the ORM did not see changed row ``id`` of ``model``.

    ``changes`` is ``{attribute: (old, new)}``. The update is merged with the transaction's
    other changes and delivered with them, like those the ORM sees.
    """
    if model not in _MODELS:
        return
    changes_log = _writable_log(session)
    if changes_log is None:
        return
    plain = {key: (_plain(old), _plain(new)) for key, (old, new) in changes.items()}
    changes_log.records.append(_Record(model, id, "updated", event_id, _actor(session), plain))


class _CreatedValues(Mapping):
    """A created row's changes, ``{attribute: (None, value)}``, made from a copy of the row as
    they are read: an import reports thousands of rows of dozens of attributes each, most of
    which no subscriber ever reads."""

    __slots__ = ("_row",)

    def __init__(self, row: Mapping):
        self._row = dict(row)

    def __getitem__(self, key: str) -> tuple[None, Any]:
        return (None, _plain(self._row[key]))

    def __iter__(self):
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


def _frozen(changes: Mapping) -> Mapping:
    """A change's values as it keeps them: a read-only copy."""
    if type(changes) is _CreatedValues:  # read-only already, and a copy
        return changes
    return MappingProxyType(dict(changes))


def record_insert(session, model: type, rows: Iterable[Mapping]) -> None:
    """Report rows that a bulk INSERT the ORM did not see created (an import's, say).

    Each of ``rows`` maps the row's attributes to their values, its ``id`` (as ``RETURNING``
    gave it) included; links of sessions and speakers may be given as ``speakers`` or
    ``sessions`` tuples of ids. They are delivered as creations, like rows the ORM flushes.
    """
    if model not in _MODELS:
        return
    changes_log = _writable_log(session)
    if changes_log is None:
        return
    actor = _actor(session)
    for row in rows:
        event_id = row["id"] if model is Event else row.get("event_id")
        created = _CreatedValues(row)
        changes_log.records.append(_Record(model, row["id"], "created", event_id, actor, created))


def _event_id(obj, values: Mapping) -> int | None:
    return values.get("id") if isinstance(obj, Event) else values.get("event_id")


def _column_changes(session, state) -> dict[str, tuple[Any, Any]]:
    old_values = session.info.get(_OLD_VALUES, {}).get(state, {})
    changes = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.added:
            continue
        new = history.added[0]
        if history.deleted:
            old = history.deleted[0]
        elif attr.key in old_values:
            old = old_values[attr.key]
        else:
            continue
        if old != new:
            changes[attr.key] = (_plain(old), _plain(new))
    return changes


def _id(obj) -> int:
    # Not ``state.identity``: a new row gets its identity key only after ``after_flush``.
    return inspect(obj).mapper.primary_key_from_instance(obj)[0]


def _link_changes(session, objs) -> dict[tuple[type, int], tuple[int | None, dict]]:
    """``{(model, id): (event_id, {relationship: (old ids, new ids)})}`` for this flush."""
    added: set[tuple[int, int]] = set()
    removed: set[tuple[int, int]] = set()
    event_ids: dict[tuple[type, int], int | None] = {}
    for obj in objs:
        if type(obj) not in _LINKS:
            continue
        history = inspect(obj).attrs[_LINKS[type(obj)]].history
        for linked, pairs in ((history.added, added), (history.deleted, removed)):
            for other in linked:
                pair = (_id(obj), _id(other))
                pairs.add(pair if isinstance(obj, Session) else pair[::-1])
                # Links stay within one event.
                event_ids[type(obj), _id(obj)] = obj.event_id
                event_ids[type(other), _id(other)] = obj.event_id
    if not (added or removed):
        return {}
    # Either side may be unloaded (changed through the other's backref): after the flush, the
    # table holds the new links; the old ones follow from what this flush added and removed.
    session_ids = {pair[0] for pair in added | removed}
    speaker_ids = {pair[1] for pair in added | removed}
    rows = session.execute(
        select(session_speakers.c.session_id, session_speakers.c.speaker_id).where(
            session_speakers.c.session_id.in_(session_ids)
            | session_speakers.c.speaker_id.in_(speaker_ids)
        )
    )
    now = {(session_id, speaker_id) for session_id, speaker_id in rows}
    changes = {}
    for model, key, side, ids in (
        (Session, "speakers", 0, session_ids),
        (Speaker, "sessions", 1, speaker_ids),
    ):
        # Each side's links indexed once: a flush of thousands of links stays linear.
        after_by_id, added_by_id, removed_by_id = (
            _by_side(pairs, side) for pairs in (now, added, removed)
        )
        for id in ids:
            after = after_by_id.get(id, set())
            before = (after - added_by_id.get(id, set())) | removed_by_id.get(id, set())
            if before != after:
                value = (tuple(sorted(before)), tuple(sorted(after)))
                changes[model, id] = (event_ids[model, id], {key: value})
    return changes


def _by_side(pairs, side: int) -> dict[int, set[int]]:
    """``{id on side: {ids linked to it}}`` for (session id, speaker id) ``pairs``."""
    linked: dict[int, set[int]] = {}
    for pair in pairs:
        linked.setdefault(pair[side], set()).add(pair[1 - side])
    return linked


def _before_flush(session, flush_context, instances):
    # After the flush the database holds the new values: remember the stored value of each
    # attribute assigned while unloaded (history has no old value for it), and load what a
    # deletion will report.
    old_values = session.info[_OLD_VALUES] = {}
    for obj in session.dirty:
        if type(obj) not in _MODELS:
            continue
        state = inspect(obj)
        missing = [
            attr.key
            for attr in state.mapper.column_attrs
            if state.attrs[attr.key].history.added and not state.attrs[attr.key].history.deleted
        ]
        if missing and state.identity:
            stored = stored_values(session, state, missing)
            if stored is not None:
                old_values[state] = stored
    for obj in session.deleted:
        if type(obj) in _MODELS:
            state = inspect(obj)
            if state.expired_attributes:
                session.refresh(obj, attribute_names=list(state.expired_attributes))


def _row_change(session, obj, created, deleted) -> tuple[str, dict]:
    """``(kind, {attribute: (old, new)})`` for the columns of ``obj`` in this flush;
    ``created`` and ``deleted`` are the session's ``new`` and ``deleted`` (each read of those
    properties builds a new set)."""
    state = inspect(obj)
    values = state.dict
    if obj in deleted:
        changes = {}
        for attr in state.mapper.column_attrs:
            if attr.key in values:
                history = state.attrs[attr.key].history
                old = history.deleted[0] if history.deleted else values[attr.key]
                changes[attr.key] = (_plain(old), None)
        return "deleted", changes
    if obj in created:
        return "created", {
            attr.key: (None, _plain(values[attr.key]))
            for attr in state.mapper.column_attrs
            if attr.key in values
        }
    return "updated", _column_changes(session, state)


def _after_flush(session, flush_context):
    created, deleted = session.new, session.deleted
    objs = [o for o in (*created, *session.dirty, *deleted) if type(o) in _MODELS]
    links = _link_changes(session, [o for o in objs if o not in deleted])
    rows: dict[tuple[type, int], _Record] = {}
    for obj in objs:
        kind, changes = _row_change(session, obj, created, deleted)
        if kind == "updated" and "deleted_at" in changes:
            old, new = changes["deleted_at"]
            kind = "deleted" if old is None else "created" if new is None else kind
        record = _Record(
            type(obj), _id(obj), kind, _event_id(obj, inspect(obj).dict), None, changes
        )
        record.soft = kind == "deleted" and obj not in deleted
        record.restored = kind == "created" and obj not in created
        rows[record.model, record.id] = record
    for (model, id), (event_id, changes) in links.items():
        record = rows.setdefault((model, id), _Record(model, id, "updated", event_id, None, {}))
        record.changes.update(changes)
    session.info.pop(_OLD_VALUES, None)
    batch = [record for record in rows.values() if record.kind != "updated" or record.changes]
    if not batch:
        return
    changes_log = _writable_log(session)
    if changes_log is None:
        return
    user_id = _actor(session)
    for record in batch:
        record.user_id = user_id

    def flush_order(record: _Record):
        rank = _RANK[record.model]
        if record.kind == "deleted":
            rank = -rank
        return (_KIND_ORDER[record.kind], rank, record.id)

    changes_log.records.extend(sorted(batch, key=flush_order))


def _after_transaction_create(session, session_transaction):
    if session_transaction.nested:
        changes_log = _existing_log(session)
        _savepoint_marks[session_transaction] = len(changes_log.records) if changes_log else 0


def _after_soft_rollback(session, previous_transaction):
    # A rolled-back SAVEPOINT takes back the changes flushed since it began; a rollback of
    # the whole session, all of them.
    if previous_transaction.nested:
        mark = _savepoint_marks.get(previous_transaction)
        if mark is None:
            return
    elif previous_transaction.parent is None:
        mark = 0
    else:
        return
    changes_log = _existing_log(session)
    if changes_log is not None:
        del changes_log.records[mark:]


# Merging and delivery.


def _merged(records: Iterable[_Record], committed_at: datetime) -> list[ModelChanged]:
    """One change per row, in the order the rows first changed."""
    rows: dict[tuple[type, int], list[_Record]] = {}
    for record in records:
        rows.setdefault((record.model, record.id), []).append(record)
    changes = []
    for (model, id), history in rows.items():
        first, last = history[0], history[-1]
        if first.kind == "created" and last.kind == "deleted":
            continue  # never visible outside the transaction
        if len(history) == 1:  # most rows: nothing to merge (the change class copies it)
            merged = first.changes
        else:
            merged = {}
            for record in history:
                for key, (old, new) in record.changes.items():
                    merged[key] = (merged[key][0] if key in merged else old, new)
        if first.kind == "created":
            kind, soft, restored = "created", False, first.restored
        elif last.kind == "deleted":
            kind, soft, restored = "deleted", last.soft, False
        else:
            kind, soft, restored = "updated", False, False
        if kind == "updated":
            merged = {key: values for key, values in merged.items() if values[0] != values[1]}
            if not merged:
                continue
        event_id = next((r.event_id for r in reversed(history) if r.event_id is not None), None)
        # Made as _delivered copies them (thousands for an import): every field set, no
        # __init__ run again for what is already checked.
        change = object.__new__(_MODELS[model][kind])
        change.__dict__.update(
            id=id,
            event_id=event_id,
            user_id=last.user_id,
            changes=_frozen(merged),
            soft=soft,
            restored=restored,
            committed_at=committed_at,
            registry=None,
            dbsession=None,
        )
        changes.append(change)
    return changes


def _before_commit(registry, txn, changes_log: _Log) -> None:
    """Read the transaction's changes and run the subscribers marked ``in_transaction``.

    Flushes first, so that the changes are complete; flushes again after the subscribers, so
    that what they wrote (outbox rows, their own rows) is in the transaction, and so that a
    public model they changed raises here. On any error the transaction is aborted (a failed
    hook would leave it open: pyramid_tm does not abort after a failed commit) and the error
    propagates: the commit fails, and the outbox rows go with it.
    """
    if not registry.settings.get(DELIVER_SETTING, True):
        return
    try:
        for session in changes_log.sessions:
            session.flush()
        dbsession = changes_log.sessions[0]
        committed_at = utcnow()  # after the last flush: no row was written later
        changes = tuple(_merged(changes_log.records, committed_at))
        changes_log.changes = changes
        if not changes:
            return
        changes_log.batch = ChangesCommitted(changes, committed_at, _actor(dbsession))
        _deliver(registry, changes, changes_log.batch, in_transaction=True, dbsession=dbsession)
        for session in changes_log.sessions:
            session.flush()
    except BaseException:
        txn.abort()
        raise
    # Registered now, after the outbox's send hook (if a subscriber enqueued): jobs are sent
    # before the subscribers after the commit run.
    txn.addAfterCommitHook(_after_commit, args=(registry, changes_log))


def _after_commit(status: bool, registry, changes_log: _Log) -> None:
    if status:
        _deliver(registry, changes_log.changes, changes_log.batch, in_transaction=False)


def _deliver(
    registry, changes, batch: ChangesCommitted, in_transaction: bool, dbsession=None
) -> None:
    """Call the subscribers of one phase: those marked ``in_transaction`` with the committing
    transaction's ``dbsession``, or the others after the commit."""
    changes = tuple(_delivered(c, registry=registry, dbsession=dbsession) for c in changes)
    call = _call_in_transaction if in_transaction else _call
    # The subscribers of a change class, found once per delivery: an import's changes are
    # thousands, of a few classes (a change provides only what its class declares).
    handlers: dict[type, list[tuple[Callable, str | None]]] = {}
    with _Enablement(registry, dbsession) as enabled:
        for change in changes:
            found = handlers.get(type(change))
            if found is None:
                found = handlers[type(change)] = [
                    (handler, plugins.plugin_of(registry, handler))
                    for handler in registry.adapters.subscriptions([providedBy(change)], None)
                    if _runs_in_transaction(handler) == in_transaction
                ]
            for handler, plugin in found:
                if enabled(plugin, change.event_id):
                    call(handler, change, plugin)
        batch = replace(batch, changes=changes, registry=registry, dbsession=dbsession)
        for handler in registry.adapters.subscriptions([providedBy(batch)], None):
            if _runs_in_transaction(handler) != in_transaction:
                continue
            plugin = plugins.plugin_of(registry, handler)
            mine = tuple(c for c in changes if enabled(plugin, c.event_id))
            if mine:
                call(handler, replace(batch, changes=mine), plugin)


def _delivered(change: ModelChanged, **infrastructure) -> ModelChanged:
    """A copy of ``change`` with ``infrastructure`` (its registry and session) set.

    Not ``dataclasses.replace``, which runs ``__init__`` again and copies the changed values
    once more: a transaction's changes (an import's are thousands) are copied in each phase,
    and their values are already a read-only copy that the two copies can share.
    """
    copied = object.__new__(type(change))
    copied.__dict__.update(change.__dict__, **infrastructure)
    return copied


def _call(handler, notification, plugin: str | None) -> None:
    try:
        handler(notification)
    except Exception:
        log.exception(
            "change subscriber %s of plugin %s failed on %r",
            getattr(handler, "__qualname__", handler),
            plugin or "core",
            notification,
        )


def _call_in_transaction(handler, notification, plugin: str | None) -> None:
    try:
        handler(notification)
    except Exception:
        log.exception(
            "change subscriber %s of plugin %s failed in the transaction on %r: the "
            "transaction is rolled back",
            getattr(handler, "__qualname__", handler),
            plugin or "core",
            notification,
        )
        raise


class _Enablement:
    """Per-event plugin enablement for one delivery (``is_enabled_for_event`` caches its
    answers in the session): on the committing transaction's session before the commit, on
    one opened only if needed after it."""

    def __init__(self, registry, dbsession=None):
        self._registry = registry
        self._dbsession = dbsession
        self._own = dbsession is None

    def __enter__(self):
        return self

    def __call__(self, plugin: str | None, event_id: int | None) -> bool:
        if plugin is None:
            return True  # openevent's own subscribers
        if self._dbsession is None:
            self._dbsession = self._registry["dbsession_factory"]()
        return plugins.is_enabled_for_event(self._dbsession, plugin, event_id)

    def __exit__(self, *exc_info):
        if self._own and self._dbsession is not None:
            self._dbsession.close()


# Subscriber predicates.


class EventIdPredicate:
    """``event_id=42``: only changes of rows of that event."""

    def __init__(self, value, config):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"event_id must be an event's id (an int), not {value!r}")
        self.value = value

    def text(self) -> str:
        return f"event_id = {self.value}"

    phash = text

    def __call__(self, change) -> bool:
        return getattr(change, "event_id", None) == self.value


class AttributesPredicate:
    """``attributes=("title", ...)``: updates only if one of these attributes changed.

    Creations and deletions pass: they concern every attribute.
    """

    def __init__(self, value, config):
        names = (value,) if isinstance(value, str) else tuple(value)
        if not names or not all(isinstance(name, str) for name in names):
            raise TypeError(f"attributes must be attribute names, not {value!r}")
        self.names = frozenset(names)

    def text(self) -> str:
        return f"attributes = {sorted(self.names)}"

    phash = text

    def __call__(self, change) -> bool:
        if not isinstance(change, ModelUpdated):
            return True
        return not self.names.isdisjoint(change.changes)


def includeme(config):
    """Listen to the app's sessions and add the ``event_id`` and ``attributes`` predicates."""
    factory = config.registry["dbsession_factory"]
    factory.configure(info={**factory.kw.get("info", {}), _REGISTRY: config.registry})
    event.listen(factory, "after_begin", _join)
    event.listen(factory, "after_attach", _join)
    event.listen(factory, "before_flush", _before_flush)
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "after_transaction_create", _after_transaction_create)
    event.listen(factory, "after_soft_rollback", _after_soft_rollback)
    config.add_subscriber_predicate("event_id", EventIdPredicate)
    config.add_subscriber_predicate("attributes", AttributesPredicate)
