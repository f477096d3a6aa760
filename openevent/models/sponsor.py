"""An event's sponsors and its social links: who supports it, and where else it is found."""

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openevent.db.meta import Base
from openevent.models.event import Event
from openevent.models.mixins import TimestampsMixin


class Sponsor(TimestampsMixin, Base):
    """A sponsor, shown in its ``level`` (1 first) under the heading ``sponsor_type``
    (Open Event's ``type``)."""

    __tablename__ = "sponsors"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2048))
    level: Mapped[int | None]
    sponsor_type: Mapped[str | None] = mapped_column(String(255))
    logo_url: Mapped[str | None] = mapped_column(String(2048))

    event: Mapped[Event] = relationship()


class SocialLink(TimestampsMixin, Base):
    """One of the event's pages elsewhere (its Twitter account, its wiki page...)."""

    __tablename__ = "social_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    link: Mapped[str] = mapped_column(String(2048))

    event: Mapped[Event] = relationship()
