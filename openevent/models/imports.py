"""Imports of Open Event exports started through the API: one row per upload, for its user."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openevent.db.meta import Base
from openevent.models.event import Event
from openevent.models.mixins import CreatedMixin


class ImportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportJob(CreatedMixin, Base):
    """An uploaded export waiting for, going through or done with its import job.

    The upload is kept in storage under ``archive_key`` until the job has finished with it.
    ``message_id`` names the job's message, whose failure record tells a job that died.
    """

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[ImportState] = mapped_column(default=ImportState.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    strict: Mapped[bool] = mapped_column(default=False)
    file_name: Mapped[str | None] = mapped_column(String(255))
    archive_key: Mapped[str | None] = mapped_column(String(1024))
    message_id: Mapped[str | None] = mapped_column(String(36))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    event: Mapped[Event | None] = relationship()
