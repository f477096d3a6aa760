"""The job outbox and the record of jobs that failed for good."""

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openevent.db.meta import Base
from openevent.db.types import utcnow
from openevent.models.mixins import CreatedMixin


class OutboxMessage(CreatedMixin, Base):
    """A job message written in the enqueuing transaction and sent to the broker after commit.

    ``sent_at`` stays empty until the broker has accepted the message; the relay resends rows
    left unsent (the broker was down, the process died between commit and send).
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    queue_name: Mapped[str] = mapped_column(String(100))
    actor_name: Mapped[str] = mapped_column(String(200))
    plugin: Mapped[str | None] = mapped_column(String(100))
    # No foreign key: the message must survive the event's deletion and say so to the job.
    event_id: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[bytes] = mapped_column(LargeBinary)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)


class JobDelivery(Base):
    """How many times workers started a message: retries and redeliveries after a dead worker.

    Kept apart from ``outbox``: a worker counting a delivery must not wait on the row that the
    enqueuing process is still marking sent. See ``openevent.jobs.broker.DeliveryCounter``.
    """

    __tablename__ = "job_deliveries"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deliveries: Mapped[int]
    last_delivered_at: Mapped[datetime] = mapped_column(index=True)


class JobFailure(Base):
    """A job message that failed on its last allowed attempt."""

    __tablename__ = "job_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), index=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    queue_name: Mapped[str] = mapped_column(String(100))
    # The arguments as JSON, for people; the whole encoded message, to inspect or re-enqueue it.
    args: Mapped[str] = mapped_column(Text)
    message: Mapped[bytes] = mapped_column(LargeBinary)
    error: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int]
    failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
