"""The counters table: one row per event, created by the first bump."""

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from openevent.db import Base

# The counters, in the order the API lists them. A change to a row raises its collection's.
COLLECTIONS = ("event", "sessions", "speakers", "tickets", "tracks", "microlocations")


def _counter() -> Mapped[int]:
    return mapped_column(default=0, server_default="0")


class EventVersions(Base):
    """How many committed transactions changed each collection of an event."""

    __tablename__ = "versions_counters"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    event: Mapped[int] = _counter()
    sessions: Mapped[int] = _counter()
    speakers: Mapped[int] = _counter()
    tickets: Mapped[int] = _counter()
    tracks: Mapped[int] = _counter()
    microlocations: Mapped[int] = _counter()
