"""An event's program: sessions, their types, speakers, tracks and rooms (microlocations)."""

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    event,
    false,
    inspect,
    orm,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openevent.db.meta import Base
from openevent.models.event import Event
from openevent.models.mixins import SoftDeleteMixin, TimestampsMixin
from openevent.previews import PREVIEW_LENGTH, abstract_preview


class SessionState(enum.StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    ACCEPTED = "accepted"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELED = "canceled"
    WITHDRAWN = "withdrawn"


session_speakers = Table(
    "session_speakers",
    Base.metadata,
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("speaker_id", ForeignKey("speakers.id", ondelete="CASCADE"), primary_key=True),
)


class Track(TimestampsMixin, Base):
    """A thematic strand of the program, shown in its colour."""

    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(String(7))
    # The colour of text written on ``color``, as the organizer chose it.
    font_color: Mapped[str | None] = mapped_column(String(7))

    event: Mapped[Event] = relationship()


class Microlocation(TimestampsMixin, Base):
    """A room or stage; ``position`` orders the rooms in a schedule."""

    __tablename__ = "microlocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(default=0)
    floor: Mapped[int | None]
    room: Mapped[str | None] = mapped_column(String(255))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    event: Mapped[Event] = relationship()


# The longest a session type may last: a day, in minutes.
MAX_SESSION_LENGTH = 24 * 60


class SessionType(TimestampsMixin, Base):
    """A kind of session (talk, workshop, ...) with its usual length."""

    __tablename__ = "session_types"
    __table_args__ = (
        CheckConstraint(
            f"length_minutes >= 1 AND length_minutes <= {MAX_SESSION_LENGTH}",
            name="length_in_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    # Open Event's "HH:MM" length, in minutes.
    length_minutes: Mapped[int]

    event: Mapped[Event] = relationship()


class Speaker(TimestampsMixin, SoftDeleteMixin, Base):
    """A person speaking at an event."""

    __tablename__ = "speakers"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    photo_url: Mapped[str | None] = mapped_column(String(2048))
    # The photo's resized copies, made from photo_url by an image plugin.
    thumbnail_image_url: Mapped[str | None] = mapped_column(String(2048))
    small_image_url: Mapped[str | None] = mapped_column(String(2048))
    icon_image_url: Mapped[str | None] = mapped_column(String(2048))
    organisation: Mapped[str | None] = mapped_column(String(255))
    position: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(255))
    short_biography: Mapped[str | None] = mapped_column(Text)
    long_biography: Mapped[str | None] = mapped_column(Text)
    is_featured: Mapped[bool] = mapped_column(default=False, server_default=false())
    website: Mapped[str | None] = mapped_column(String(2048))
    twitter: Mapped[str | None] = mapped_column(String(2048))
    facebook: Mapped[str | None] = mapped_column(String(2048))
    github: Mapped[str | None] = mapped_column(String(2048))
    linkedin: Mapped[str | None] = mapped_column(String(2048))

    event: Mapped[Event] = relationship()
    sessions: Mapped[list["Session"]] = relationship(
        secondary=session_speakers, back_populates="speakers"
    )


class Session(TimestampsMixin, SoftDeleteMixin, Base):
    """A talk, workshop or other slot of the program."""

    __tablename__ = "sessions"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    subtitle: Mapped[str | None] = mapped_column(String(255))
    short_abstract: Mapped[str | None] = mapped_column(Text)
    long_abstract: Mapped[str | None] = mapped_column(Text)
    # Derived from the abstracts whenever they are written (see _store_abstract_preview).
    abstract_preview: Mapped[str | None] = mapped_column(String(PREVIEW_LENGTH))
    language: Mapped[str | None] = mapped_column(String(35))
    level: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[SessionState] = mapped_column(default=SessionState.DRAFT)
    slides_url: Mapped[str | None] = mapped_column(String(2048))
    video_url: Mapped[str | None] = mapped_column(String(2048))
    audio_url: Mapped[str | None] = mapped_column(String(2048))
    signup_url: Mapped[str | None] = mapped_column(String(2048))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    track_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracks.id", ondelete="SET NULL"), index=True
    )
    microlocation_id: Mapped[int | None] = mapped_column(
        ForeignKey("microlocations.id", ondelete="SET NULL"), index=True
    )
    session_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_types.id", ondelete="SET NULL"), index=True
    )

    event: Mapped[Event] = relationship()
    track: Mapped[Track | None] = relationship()
    microlocation: Mapped[Microlocation | None] = relationship()
    session_type: Mapped[SessionType | None] = relationship()
    speakers: Mapped[list[Speaker]] = relationship(
        secondary=session_speakers, back_populates="sessions"
    )


_ABSTRACTS = ("short_abstract", "long_abstract")


@event.listens_for(orm.Session, "before_flush")
def _store_abstract_preview(session, flush_context, instances):
    # Computed once, when an abstract is written, by whatever writes it (the API, a plugin, an
    # import), rather than for every row of every read: previews parse the whole markup.
    # Bulk UPDATE and INSERT statements bypass the ORM: code that writes abstracts that way
    # must set abstract_preview itself.
    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, Session):
            continue
        state = inspect(obj)
        if any(state.attrs[name].history.has_changes() for name in _ABSTRACTS):
            obj.abstract_preview = abstract_preview(obj.short_abstract, obj.long_abstract)
