"""Column types: timezone-aware UTC timestamps on every database."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, event
from sqlalchemy.orm import Mapper
from sqlalchemy.types import TypeDecorator


class NaiveDatetimeError(ValueError):
    """A datetime without a UTC offset reached the model layer."""


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Convert an aware datetime to UTC; refuse a naive one."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(
            f"naive datetime {value.isoformat()} has no UTC offset; attach the event's timezone"
        )
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware.

    PostgreSQL stores ``timestamp with time zone``; SQLite has no such type, so the value is
    stored as naive UTC text and the offset is put back on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = to_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect, coltype):
        if dialect.name != "sqlite":
            # PostgreSQL's driver gives aware datetimes, in UTC where the session's timezone is
            # UTC (as on most servers): those are kept as they are, in one call per value (a
            # list reads thousands; the generic path takes two).
            def process_aware(value):
                if value is None or value.tzinfo is UTC:
                    return value
                return self.process_result_value(value, dialect)

            return process_aware

        # SQLite returns the stored text: parsed and given its offset in one step (a list
        # reads thousands of these; the generic path parses, then converts in a second call).
        def process(value):
            if value is None:
                return None
            if isinstance(value, str):
                try:
                    # Stored as naive UTC text: read with its offset in one call, several
                    # times cheaper than parsing, then replacing the tzinfo.
                    return datetime.fromisoformat(value + "+00:00")
                except ValueError:  # text with an offset of its own, or a bare date
                    value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                return value.replace(tzinfo=UTC)
            return value.astimezone(UTC)

        return process


def _normalize_on_set(target, value, oldvalue, initiator):
    return None if value is None else to_utc(value)


@event.listens_for(Mapper, "mapper_configured")
def _guard_timestamp_attributes(mapper, class_):
    """Make assigning a naive datetime to any UTCDateTime attribute fail at once.

    Without this the error would surface only at flush time, far from the code that caused it.
    """
    for prop in mapper.column_attrs:
        if prop.parent is mapper and any(isinstance(c.type, UTCDateTime) for c in prop.columns):
            event.listen(getattr(class_, prop.key), "set", _normalize_on_set, retval=True)
