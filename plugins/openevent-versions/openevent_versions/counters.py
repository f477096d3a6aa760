"""Raising counters atomically (one ``INSERT ... ON CONFLICT DO UPDATE`` per bump), and reading
them: :func:`event_counters` is also what other plugins call (see the README)."""

from collections.abc import Iterable

from sqlalchemy import literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from openevent.models import Event
from openevent.plugins import PLUGINS_KEY, PluginState, is_enabled_for_event
from openevent_versions.models import COLLECTIONS, EventVersions

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def bump_counters(dbsession: Session, event_id: int, collections: Iterable[str]) -> None:
    """Raise each of ``collections``' counters of ``event_id`` by one, in one statement.

    Runs in ``dbsession``'s transaction. The database does the
    arithmetic (``SET x = x + 1``), never Python: concurrent bumps on PostgreSQL wait for the
    row's lock and each sees the other's result, so no increment is lost. The row is created on
    the first bump; the ``INSERT ... SELECT`` from ``events`` makes a bump for an event deleted
    since a no-op rather than a foreign-key error. Names outside :data:`COLLECTIONS` are ignored.
    """
    names = [name for name in COLLECTIONS if name in set(collections)]
    if not names:
        return
    insert = _INSERTS[dbsession.get_bind().dialect.name]
    rows = select(Event.id, *(literal(1) for _ in names)).where(Event.id == event_id)
    # On the mapped class, not its Table: zope.sqlalchemy only sees ORM statements, and a
    # Core-only write would leave the job's transaction "unchanged" and be rolled back.
    statement = insert(EventVersions).from_select(["event_id", *names], rows)
    statement = statement.on_conflict_do_update(
        index_elements=[EventVersions.event_id],
        set_={name: getattr(EventVersions, name) + 1 for name in names},
    )
    dbsession.execute(statement)


def event_counters(dbsession: Session, event_id: int) -> dict[str, int] | None:
    """``{collection: counter}`` of ``event_id`` (all zeros before its first bump), or None
    when the counters do not follow the event's changes: the plugin is not active in the app
    ``dbsession`` belongs to, or is turned off for the event.

    For other plugins (a page's ETag, a cache key): equal counters mean no committed change to
    those collections, once the bump jobs of earlier changes have run.
    """
    registry = dbsession.info.get("registry")
    info = None if registry is None else registry.get(PLUGINS_KEY, {}).get("versions")
    if info is None or info.state is not PluginState.ACTIVE:
        return None
    if not is_enabled_for_event(dbsession, "versions", event_id):
        return None
    row = dbsession.get(EventVersions, event_id)
    return {name: getattr(row, name) if row is not None else 0 for name in COLLECTIONS}
