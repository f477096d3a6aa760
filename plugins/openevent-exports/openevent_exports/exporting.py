"""Running an export: snapshot, temporary file, storage, retention; and telling a dead job.

The job runs in its transaction, which commits its outcome (done, with the file's key and
size, or failed, with the error). Its progress and heartbeat cannot wait for that commit, and
on SQLite no second transaction may write while the job's holds the lock, so they go to a small
object in storage beside the archive (``exports/<event>/<id>/progress.json``), rewritten at
each step; the API reads it while the job runs. The archive goes to a temporary file (the
formats stream into it; zip members get ZIP64 as needed), is put into storage, and the
temporary file is deleted whatever happens.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import datetime, timedelta

import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from openevent.db import utcnow
from openevent.storage import ObjectNotFound
from openevent_exports.formats import FORMATS, Writing
from openevent_exports.models import ExportJob, ExportState
from openevent_exports.settings import export_settings
from openevent_exports.snapshot import EventNotFound, load_program

log = logging.getLogger(__name__)


def progress_key(event_id: int, export_id: int) -> str:
    return f"exports/{event_id}/{export_id}/progress.json"


def write_export(dbsession, registry, event_id, format_name, options, stream, progress) -> str:
    """Write ``event_id``'s export in ``format_name`` to ``stream``; return the event's
    identifier."""
    fmt = FORMATS[format_name]
    program = load_program(dbsession, event_id, public=fmt.public)
    settings = export_settings(registry)
    writing = Writing(options, progress, settings.public_url, registry["openevent.storage"])
    fmt.write(program, stream, writing)
    return program.event["identifier"]


def read_progress(storage, job: ExportJob) -> dict | None:
    """What the running job last reported: ``{"progress": n, "heartbeat": iso time}``."""
    try:
        with storage.open(progress_key(job.event_id, job.id)) as stream:
            return orjson.loads(stream.read())
    except (ObjectNotFound, orjson.JSONDecodeError):
        return None


def run_export(ctx, export_id: int) -> None:
    """Build export ``export_id`` (a row of ``exports_jobs``), once: a done or failed export, or
    one that is gone, is left alone (Dramatiq delivers at least once)."""
    dbsession, registry = ctx.dbsession, ctx.registry
    job = dbsession.get(ExportJob, export_id)
    if job is None or job.state in (ExportState.DONE, ExportState.FAILED):
        return
    storage = registry["openevent.storage"]
    beat_key = progress_key(job.event_id, job.id)
    job.state, job.started_at, job.attempts = ExportState.RUNNING, utcnow(), job.attempts + 1

    def progress(percent: int) -> None:
        report = {"progress": min(percent, 99), "heartbeat": utcnow().isoformat()}
        storage.put(beat_key, orjson.dumps(report), "application/json")

    progress(0)
    fmt = FORMATS[job.format]
    descriptor, path = tempfile.mkstemp(prefix="openevent-export-")
    key = None
    try:
        with os.fdopen(descriptor, "wb") as stream:
            identifier = write_export(
                dbsession, registry, job.event_id, job.format, dict(job.options), stream, progress
            )
        key = f"exports/{job.event_id}/{job.id}/{identifier}-{fmt.filename}"
        with open(path, "rb") as stream:
            stored = storage.put(key, stream, fmt.media_type, public=False)
        job.state, job.progress, job.storage_key, job.size = ExportState.DONE, 100, key, stored.size
    except SQLAlchemyError:
        raise  # the transaction is broken: the job is retried, and ends in job_failures
    except Exception as error:  # any other failure ends the export, with its reason shown
        log.exception("export %s of event %s failed", job.id, job.event_id)
        if key is not None:
            storage.delete(key)
        message = "the event is gone" if isinstance(error, EventNotFound) else str(error)
        job.state, job.error = ExportState.FAILED, f"{type(error).__name__}: {message}"[:2000]
    finally:
        if os.path.exists(path):
            os.unlink(path)
        storage.delete(beat_key)
    job.finished_at = utcnow()
    apply_retention(dbsession, storage, registry, job.event_id)


def apply_retention(dbsession, storage, registry, event_id: int) -> None:
    """Keep the newest ``exports.keep`` finished exports of the event; delete the others'
    files from storage, then their rows."""
    dbsession.flush()
    keep = export_settings(registry).keep
    finished = select(ExportJob.id, ExportJob.storage_key).where(
        ExportJob.event_id == event_id,
        ExportJob.state.in_((ExportState.DONE, ExportState.FAILED)),
    )
    old = dbsession.execute(
        finished.order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).offset(keep)
    ).all()
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
    report = read_progress(registry["openevent.storage"], job)
    heartbeat = datetime.fromisoformat(report["heartbeat"]) if report else None
    if heartbeat is not None and now - heartbeat > timedelta(seconds=settings.heartbeat_timeout):
        return ExportState.FAILED, (
            f"the job stopped: no progress for over {settings.heartbeat_timeout} s "
            "(its worker was probably lost)"
        )
    if heartbeat is None and now - job.created_at > timedelta(seconds=settings.queue_timeout):
        return ExportState.FAILED, f"no worker started the job within {settings.queue_timeout} s"
    return (ExportState.RUNNING if heartbeat is not None else ExportState.QUEUED), None
