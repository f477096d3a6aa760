"""Running an export: snapshot, temporary file, storage, retention; and telling a dead job.

The job does its work in short transactions of its own (``transaction_scope``), so that its
state and progress are seen while it runs and, on SQLite, no write lock is held while the file
is written. The archive goes to a temporary file (the formats stream into it; zip members get
ZIP64 as needed), is put into storage, and the temporary file is deleted whatever happens.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import timedelta

from sqlalchemy import delete, select, update

from openevent.cli.api import transaction_scope
from openevent.db import utcnow
from openevent_exports.formats import FORMATS, Writing
from openevent_exports.models import ExportJob, ExportState
from openevent_exports.settings import export_settings
from openevent_exports.snapshot import EventNotFound, load_program

log = logging.getLogger(__name__)


def write_export(registry, event_id: int, format_name: str, options: dict, stream, progress):
    """Write ``event_id``'s export in ``format_name`` to ``stream``; return the event's
    identifier."""
    fmt = FORMATS[format_name]
    with transaction_scope(registry) as dbsession:
        program = load_program(dbsession, event_id, public=fmt.public)
    settings = export_settings(registry)
    writing = Writing(options, progress, settings.public_url, registry["openevent.storage"])
    fmt.write(program, stream, writing)
    return program.event["identifier"]


def _set(registry, export_id: int, **values) -> None:
    with transaction_scope(registry) as dbsession:
        dbsession.execute(
            update(ExportJob)
            .where(ExportJob.id == export_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def run_export(registry, export_id: int) -> None:
    """Build export ``export_id`` (a row of ``exports_jobs``), once: a done or failed export, or
    one that is gone, is left alone (Dramatiq delivers at least once)."""
    with transaction_scope(registry) as dbsession:
        job = dbsession.get(ExportJob, export_id)
        if job is None or job.state in (ExportState.DONE, ExportState.FAILED):
            return
        now = utcnow()
        job.state, job.started_at, job.heartbeat_at = ExportState.RUNNING, now, now
        job.progress, job.attempts = 0, job.attempts + 1
        event_id, format_name, options = job.event_id, job.format, dict(job.options)

    def progress(percent: int) -> None:
        _set(registry, export_id, progress=min(percent, 99), heartbeat_at=utcnow())

    storage = registry["openevent.storage"]
    descriptor, path = tempfile.mkstemp(prefix="openevent-export-")
    key = None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            identifier = write_export(registry, event_id, format_name, options, stream, progress)
        fmt = FORMATS[format_name]
        key = f"exports/{event_id}/{export_id}/{identifier}-{fmt.filename}"
        with open(path, "rb") as stream:
            stored = storage.put(key, stream, fmt.media_type, public=False)
        _set(
            registry,
            export_id,
            state=ExportState.DONE,
            progress=100,
            finished_at=utcnow(),
            heartbeat_at=utcnow(),
            storage_key=key,
            size=stored.size,
        )
    except Exception as error:  # any failure ends the export, with its reason shown
        log.exception("export %s of event %s failed", export_id, event_id)
        if key is not None:
            storage.delete(key)
        message = "the event is gone" if isinstance(error, EventNotFound) else str(error)
        _set(
            registry,
            export_id,
            state=ExportState.FAILED,
            finished_at=utcnow(),
            error=f"{type(error).__name__}: {message}"[:2000],
        )
        return
    finally:
        if os.path.exists(path):
            os.unlink(path)
    apply_retention(registry, event_id)


def apply_retention(registry, event_id: int) -> None:
    """Keep the newest ``exports.keep`` finished exports of the event; delete the others'
    files from storage, then their rows."""
    keep = export_settings(registry).keep
    with transaction_scope(registry) as dbsession:
        finished = select(ExportJob.id, ExportJob.storage_key).where(
            ExportJob.event_id == event_id,
            ExportJob.state.in_((ExportState.DONE, ExportState.FAILED)),
        )
        old = dbsession.execute(
            finished.order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).offset(keep)
        ).all()
        storage = registry["openevent.storage"]
        for _, key in old:
            if key:
                storage.delete(key)
        if old:
            dbsession.execute(
                delete(ExportJob)
                .where(ExportJob.id.in_([row_id for row_id, _ in old]))
                .execution_options(synchronize_session=False)
            )


def effective_state(job: ExportJob, registry) -> tuple[str, str | None]:
    """The export's state and error as the API shows them: a job that died is failed.

    Two signs of death, whatever the broker: the message is recorded in ``job_failures``
    (openevent counts deliveries, so a job that kills its worker every time ends there), or
    the job stopped beating (running, with no progress for ``exports.heartbeat_timeout_seconds``)
    or never started (queued for ``exports.queue_timeout_seconds``).
    """
    if job.state in (ExportState.DONE, ExportState.FAILED):
        return job.state, job.error
    if job.failures:
        return ExportState.FAILED, f"the job failed: {job.failures[-1].error}"
    settings = export_settings(registry)
    now = utcnow()
    heartbeat_deadline = timedelta(seconds=settings.heartbeat_timeout)
    if job.state == ExportState.RUNNING and now - job.heartbeat_at > heartbeat_deadline:
        return ExportState.FAILED, (
            f"the job stopped: no progress for over {settings.heartbeat_timeout} s "
            "(its worker was probably lost)"
        )
    if job.state == ExportState.QUEUED and now - job.created_at > timedelta(
        seconds=settings.queue_timeout
    ):
        return ExportState.FAILED, f"no worker started the job within {settings.queue_timeout} s"
    return job.state, None
