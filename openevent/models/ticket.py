"""Tickets, with their sales window and the order the organizer chose."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openevent.db.meta import Base
from openevent.models.event import Event
from openevent.models.mixins import SoftDeleteMixin, TimestampsMixin

_LIVE = text("deleted_at IS NULL")


class Ticket(TimestampsMixin, SoftDeleteMixin, Base):
    """A kind of ticket an event sells. Live tickets hold positions 1..n, unique per event."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint("sales_ends_at > sales_starts_at", name="sales_end_after_start"),
        Index(
            "uq_tickets_event_id_position_live",
            "event_id",
            "position",
            unique=True,
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    quantity: Mapped[int] = mapped_column(default=0)
    sales_starts_at: Mapped[datetime | None]
    sales_ends_at: Mapped[datetime | None]
    position: Mapped[int]
    is_hidden: Mapped[bool] = mapped_column(default=False)

    event: Mapped[Event] = relationship()
