"""The sample plugin's tables, on openevent's Base like every core table."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openevent.db import Base
from openevent.models import Event


class SampleNote(Base):
    """A note the event's team keeps."""

    __tablename__ = "sample_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    event: Mapped[Event] = relationship()
    text: Mapped[str] = mapped_column(Text)


class SessionTitleChange(Base):
    """A session's title changed: from what, to what, when and by whom."""

    __tablename__ = "sample_title_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # The API shows changed_at in this event's timezone.
    event: Mapped[Event] = relationship()
    session_id: Mapped[int]  # no foreign key: the log outlives the session
    old_title: Mapped[str] = mapped_column(String(255))
    new_title: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime]
    user_id: Mapped[int | None]  # who changed it; None for a job or a script
    # The job message that wrote the row: a message delivered twice still writes one row.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
