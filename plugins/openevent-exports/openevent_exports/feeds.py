"""Schedule feeds that are never stale: rebuilt by a job after every committed program change.

- A committed transaction that changes an event's program (the event, sessions, speakers,
  tracks, rooms) raises the event's ``exports_feeds.requested`` in that same transaction, and
  enqueues a rebuild only if none is queued (``queued`` goes from false to true in one
  conditional ``UPDATE``: of concurrent transactions exactly one flips it). A burst of edits
  therefore causes one rebuild, plus one more if edits arrive while it runs.
- The rebuild reads the program, writes every feed of generation ``requested`` under keys of
  their own (``feeds/<event>/<generation>/schedule.ics``...), then points ``built`` at them; the
  feeds of the previous generation stay for readers that looked a moment before, older ones
  are deleted. A reader never meets a half-written file. If more was asked meanwhile, the
  job enqueues itself again.
"""

from __future__ import annotations

import functools
import hashlib

from sqlalchemy import bindparam, case, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from openevent.changes import ChangesCommitted, in_transaction
from openevent.db import utcnow
from openevent.jobs import enqueue
from openevent.models import Event
from openevent_exports.formats import FORMATS, Writing, frab, ical, xcal
from openevent_exports.models import FeedState
from openevent_exports.settings import export_settings
from openevent_exports.snapshot import EventNotFound, load_program

# The feeds, by the name of their URL under /v1/events/{id}/.
FEEDS = {
    "schedule.ics": "ical",
    "schedule.xcal": "xcal",
    "schedule.xml": "frab-xml",
    "schedule.json": "frab-json",
}
# The models whose changes are part of the program the feeds show.
PROGRAM_MODELS = frozenset({"event", "session", "speaker", "track", "microlocation"})
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def feed_key(event_id: int, generation: int, name: str) -> str:
    return f"feeds/{event_id}/{generation}/{name}"


def request_rebuild(dbsession, event_id: int, committed_at) -> bool:
    """Ask for the event's feeds to be rebuilt; True if this call enqueued the rebuild."""
    from openevent_exports.jobs import rebuild_feeds  # jobs imports this module

    add_row, flip, count = _rebuild_statements(dbsession.get_bind().dialect.name)
    dbsession.execute(add_row, {"of_event": event_id})
    if dbsession.execute(flip, {"of_event": event_id, "committed": committed_at}).rowcount:
        enqueue(dbsession, rebuild_feeds, event_id=event_id)
        return True
    dbsession.execute(count, {"of_event": event_id})
    return False


@functools.cache
def _rebuild_statements(dialect: str) -> tuple:
    """The statements of :func:`request_rebuild`, built once (every committed change of a
    program runs them): the feeds' row added if the event has none (``INSERT ... SELECT``: a
    deleted event adds nothing), the request flipped to queued if it was not, or else only
    counted."""
    # On the tables (Core): given parameters, ORM statements would insert or update in bulk.
    feeds, events = FeedState.__table__, Event.__table__
    event_id = bindparam("of_event")
    rows = select(events.c.id, literal(0), literal(0), literal(False)).where(
        events.c.id == event_id
    )
    add_row = (
        _INSERTS[dialect](feeds)
        .from_select(["event_id", "requested", "built", "queued"], rows)
        .on_conflict_do_nothing(index_elements=[feeds.c.event_id])
    )
    flip = (
        update(feeds)
        .where(feeds.c.event_id == event_id, feeds.c.queued.is_(False))
        .values(requested=feeds.c.requested + 1, queued=True, pending_since=bindparam("committed"))
    )
    count = (
        update(feeds).where(feeds.c.event_id == event_id).values(requested=feeds.c.requested + 1)
    )
    return add_row, flip, count


@in_transaction
def on_changes_committed(batch: ChangesCommitted) -> None:
    """In the committing transaction: the request to rebuild commits with the change."""
    events = {
        change.event_id
        for change in batch.changes
        if change.model in PROGRAM_MODELS and change.event_id is not None
    }
    for event_id in sorted(events):
        request_rebuild(batch.dbsession, event_id, batch.committed_at)


def build_feeds(program, public_url: str | None) -> dict[str, bytes]:
    """Every feed's bytes, by feed name: the same bytes as each format's ``write``, with the
    calendar built once for iCal and xCal and the schedule once for frab's XML and JSON."""
    writing = Writing(base_url=public_url)
    calendar = ical.build_calendar(program, writing.session_url)
    document = frab.schedule(program, writing)
    return {
        "schedule.ics": ical.to_ical(calendar),
        "schedule.xcal": xcal.to_xcal(calendar),
        "schedule.xml": frab.to_xml(document, program.event["timezone"]),
        "schedule.json": frab.to_json(document),
    }


def rebuild(ctx, job) -> None:
    """The rebuild job's work (``job`` is the job itself, to go round again)."""
    registry, event_id, dbsession = ctx.registry, ctx.event_id, ctx.dbsession
    storage = registry["openevent.storage"]
    state = dbsession.get(FeedState, event_id)
    if state is None:
        return  # the event is gone
    generation, previous = state.requested, dict(state.files or {})
    if state.built >= generation:
        return  # built already, by this message's first delivery
    try:
        program = load_program(dbsession, event_id, public=True)
    except EventNotFound:
        program = None  # not published (or gone): no feeds, the views answer 404
    files = {}
    if program is not None:
        for name, content in build_feeds(program, export_settings(registry).public_url).items():
            media_type = FORMATS[FEEDS[name]].media_type
            storage.put(feed_key(event_id, generation, name), content, media_type)
            files[name] = {
                "etag": hashlib.md5(content, usedforsecurity=False).hexdigest(),
                "size": len(content),
                "generation": generation,
            }
    now = utcnow()
    changed = {n: f["etag"] for n, f in previous.items()} != {
        n: f["etag"] for n, f in files.items()
    }
    # One conditional UPDATE decides, against the row as committed now (on PostgreSQL it waits
    # for a change's transaction that holds the row): done if nothing more was asked since the
    # generation was read, else the rebuild stays queued and goes round again. A change that
    # commits after this statement finds queued false and enqueues a rebuild of its own.
    caught_up = FeedState.requested == generation
    values = {
        "built": generation,
        "built_at": now,
        "files": files,
        "queued": case((caught_up, False), else_=True),
        "pending_since": case((caught_up, None), else_=FeedState.pending_since),
    }
    if changed:
        values["changed_at"] = now
    updated = dbsession.execute(
        update(FeedState)
        .where(FeedState.event_id == event_id, FeedState.built < generation)
        .values(**values)
        .returning(FeedState.requested)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if updated is None:
        return  # a job delivered twice built this generation (or a newer one) meanwhile
    if updated != generation:
        ctx.enqueue(job, event_id=event_id)
    # Feeds two generations back or more: no reader can be about to open them.
    kept = {f["generation"] for f in previous.values()} | {generation}
    for stored in storage.list(f"feeds/{event_id}/"):
        if int(stored.key.split("/")[2]) not in kept:
            storage.delete(stored.key)


def includeme(config):
    config.add_subscriber(on_changes_committed, ChangesCommitted)
