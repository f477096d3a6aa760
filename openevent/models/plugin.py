"""An event's choices for one plugin: whether it acts for the event, and its settings there."""

from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from openevent.db.meta import Base


class EventPlugin(Base):
    """What the organizers of ``event_id`` chose for ``plugin``.

    No row, or ``enabled`` NULL, leaves the choice to the plugin (``enabled_by_default``, on
    unless the plugin says otherwise). ``settings`` holds only the values the organizers set,
    by setting name, as the API renders them; every other setting has the plugin's default.
    """

    __tablename__ = "event_plugins"

    # The primary key (event_id, plugin) is the index is_enabled_for_event() reads.
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    plugin: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool | None]
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
