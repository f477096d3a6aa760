"""Per-event plugin settings: a row turns a plugin on or off for one event."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from openevent.db.meta import Base


class EventPlugin(Base):
    """Whether ``plugin`` acts for ``event_id``. No row means enabled (the default)."""

    __tablename__ = "event_plugins"

    # The primary key (event_id, plugin) is the index is_enabled_for_event() reads.
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    plugin: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool]
