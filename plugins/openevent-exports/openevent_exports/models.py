"""The exports plugin's tables: export jobs, and the state of each event's schedule feeds."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openevent.db import Base, utcnow
from openevent.models import Event, JobFailure


class ExportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(Base):
    """An export an organizer asked for, and how far its job got.

    The row changes when the job commits its outcome; while it runs, its progress and heartbeat
    are in storage. A job whose heartbeat is older than the deadline, or whose message is in
    ``job_failures``, died, and reads as failed (see :mod:`openevent_exports.exporting`).
    """

    __tablename__ = "exports_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    event: Mapped[Event] = relationship()
    format: Mapped[str] = mapped_column(String(32))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=ExportState.QUEUED.value)
    progress: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[int | None]  # who asked; no foreign key: the record outlives the user
    message_id: Mapped[str | None] = mapped_column(String(36), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    storage_key: Mapped[str | None] = mapped_column(String(1024))
    size: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    # The record of the job's message if it failed for good (a worker died on every delivery).
    failures: Mapped[list[JobFailure]] = relationship(
        primaryjoin="foreign(ExportJob.message_id) == JobFailure.message_id",
        viewonly=True,
        uselist=True,
        lazy="selectin",
        order_by=JobFailure.failed_at,
    )


class FeedState(Base):
    """An event's schedule feeds: which program generation was asked for and which is served.

    A committed change of the program raises ``requested``; the rebuild job writes every feed
    of that generation under keys of its own, then points ``built`` at it, so a reader always
    finds whole files. ``queued`` is true while a rebuild is on its way: further changes only
    raise ``requested``, and the job goes round again if it finds more asked than it built.
    """

    __tablename__ = "exports_feeds"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    requested: Mapped[int] = mapped_column(default=1)
    built: Mapped[int] = mapped_column(default=0)
    queued: Mapped[bool] = mapped_column(default=False)
    # The commit time of the oldest change not yet in the feeds (for freshness measurements).
    pending_since: Mapped[datetime | None]
    built_at: Mapped[datetime | None]
    # When the feeds' bytes last changed (Last-Modified), and each feed's ETag and size.
    changed_at: Mapped[datetime | None]
    files: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
