"""Columns shared by several models, and the listener that keeps ``last_modified_at`` true."""

from datetime import datetime

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from openevent.db.types import utcnow


class CreatedMixin:
    """When the row was created."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TimestampsMixin(CreatedMixin):
    """``created_at``, and ``last_modified_at`` which moves when, and only when, the row changes."""

    last_modified_at: Mapped[datetime] = mapped_column(default=utcnow)


class SoftDeleteMixin:
    """Rows moved to the trash keep their data and get a ``deleted_at``."""

    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


def stored_values(session, state, keys) -> dict | None:
    """The values of column attributes ``keys`` of a persistent row as the database holds
    them now (for attributes assigned while unloaded, whose history has no old value); None if
    the row is gone."""
    mapper = state.mapper
    columns = [mapper.column_attrs[key].columns[0] for key in keys]
    where = [pk == value for pk, value in zip(mapper.primary_key, state.identity, strict=True)]
    row = session.execute(select(*columns).where(*where)).one_or_none()
    return None if row is None else dict(zip(keys, row, strict=True))


def _really_changed(session, obj) -> bool:
    """True if a flush of ``obj`` would change a stored value or a relationship."""
    state = inspect(obj)
    for attr in state.attrs:
        history = attr.history
        if attr.key == "last_modified_at" or not history.has_changes():
            continue
        if attr.key not in state.mapper.column_attrs:
            return True  # a relationship gained or lost members
        if history.deleted:
            old = list(history.deleted)
        else:
            # Assigned while unloaded (after a commit or expire): ask the database, so that
            # assigning what is already stored is no change.
            old = [(stored_values(session, state, [attr.key]) or {}).get(attr.key)]
        if list(history.added) != old:
            return True
    return False


@event.listens_for(Session, "before_flush")
def _touch_last_modified(session, flush_context, instances):
    # Assigned before the flush, so the new value is written by the same UPDATE as the change
    # itself; a value assigned after the flush would never reach the database.
    now = utcnow()
    for obj in session.dirty:
        if isinstance(obj, TimestampsMixin) and _really_changed(session, obj):
            obj.last_modified_at = now
