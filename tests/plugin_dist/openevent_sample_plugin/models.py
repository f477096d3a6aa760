"""The sample plugin's table, on openevent's Base like every core table."""

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from openevent.db import Base


class SampleNote(Base):
    __tablename__ = "sample_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
