"""Events (conferences and meetups), their types and their teams."""

import enum
import secrets
from datetime import datetime, tzinfo

import pytz
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from openevent.db.meta import Base
from openevent.models.mixins import SoftDeleteMixin, TimestampsMixin


class EventState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class EventPrivacy(enum.StrEnum):
    """Open Event's ``privacy``: whether organizers want the event listed. Stored as given;
    who may read the event still follows its ``state``."""

    PUBLIC = "public"
    PRIVATE = "private"


class Role(enum.StrEnum):
    """A user's role on one event's team, from most to least powerful."""

    OWNER = "owner"
    ORGANIZER = "organizer"
    COORGANIZER = "coorganizer"


def slugify_event_type(name: str) -> str:
    """``"Camp, Trip & Retreat"`` becomes ``"camp-trip-retreat"``."""
    cleaned = name.lower().replace("&", " ").replace(",", " ")
    return "-".join(cleaned.split())


def new_identifier() -> str:
    """A short random identifier for public URLs."""
    return secrets.token_hex(4)


def validate_timezone(name: str) -> str:
    """Return ``name`` if it is an IANA timezone pytz knows; raise ``ValueError`` otherwise."""
    if name not in pytz.all_timezones_set:
        raise ValueError(f"unknown timezone {name!r}; use an IANA name such as 'Europe/Berlin'")
    return name


class EventType(Base):
    """A kind of event (conference, meetup, ...); its slug follows its name."""

    __tablename__ = "event_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(255), unique=True)

    @validates("name")
    def _derive_slug(self, key, name: str) -> str:
        self.slug = slugify_event_type(name)
        return name


class Event(TimestampsMixin, SoftDeleteMixin, Base):
    """A conference or meetup, with its own IANA timezone."""

    __tablename__ = "events"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(16), unique=True, default=new_identifier)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    state: Mapped[EventState] = mapped_column(default=EventState.DRAFT)
    event_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_types.id", ondelete="SET NULL"), index=True
    )
    location_name: Mapped[str | None] = mapped_column(String(255))
    logo_url: Mapped[str | None] = mapped_column(String(2048))
    original_image_url: Mapped[str | None] = mapped_column(String(2048))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    # The public contact address of the event (Open Event's ``email``).
    email: Mapped[str | None] = mapped_column(String(254))
    organizer_name: Mapped[str | None] = mapped_column(String(255))
    organizer_description: Mapped[str | None] = mapped_column(Text)
    code_of_conduct: Mapped[str | None] = mapped_column(Text)
    external_event_url: Mapped[str | None] = mapped_column(String(2048))
    ticket_url: Mapped[str | None] = mapped_column(String(2048))
    privacy: Mapped[EventPrivacy] = mapped_column(
        default=EventPrivacy.PUBLIC, server_default=EventPrivacy.PUBLIC.value
    )
    schedule_published_on: Mapped[datetime | None]
    # Open Event's ``event-copyright`` object, one per event: kept as columns of the event
    # (see docs/data-model.md), so an event and its copyright are read and changed together.
    copyright_holder: Mapped[str | None] = mapped_column(String(255))
    copyright_holder_url: Mapped[str | None] = mapped_column(String(2048))
    copyright_licence: Mapped[str | None] = mapped_column(String(255))
    copyright_licence_url: Mapped[str | None] = mapped_column(String(2048))
    copyright_year: Mapped[int | None]
    copyright_logo_url: Mapped[str | None] = mapped_column(String(2048))
    # The banner's resized copies, made from original_image_url by an image plugin.
    large_image_url: Mapped[str | None] = mapped_column(String(2048))
    thumbnail_image_url: Mapped[str | None] = mapped_column(String(2048))
    icon_image_url: Mapped[str | None] = mapped_column(String(2048))

    event_type: Mapped[EventType | None] = relationship()
    roles: Mapped[list["EventRole"]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True
    )

    @validates("timezone")
    def _validate_timezone(self, key, name: str) -> str:
        return validate_timezone(name)

    @property
    def tzinfo(self) -> tzinfo:
        return pytz.timezone(self.timezone)

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.identifier} {self.name!r}>"


class EventRole(Base):
    """A user's place on an event's team."""

    __tablename__ = "event_roles"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role]

    event: Mapped[Event] = relationship(back_populates="roles")
    user: Mapped["User"] = relationship(back_populates="roles")  # noqa: F821
