"""The import job: an uploaded export (kept in storage) becomes an event, or a failure with a
reason. See :mod:`openevent.api.imports` for the routes that start and show it."""

import logging
import shutil
import tempfile
from pathlib import Path

from openevent.db import Lane, transaction_scope, utcnow
from openevent.importer import import_archive
from openevent.importer.archive import ArchiveLimits
from openevent.importer.media import close_journal, discard_journaled, journal_of
from openevent.importer.report import ImportFailed
from openevent.jobs import job
from openevent.models import ImportJob, ImportState
from openevent.storage import STORAGE_KEY, ObjectNotFound

log = logging.getLogger(__name__)
FINISHED = (ImportState.DONE, ImportState.FAILED)


def _claim(registry, import_job_id: int):
    """Mark the job running, in a transaction of its own so its user sees it at once; return
    what the import needs, or None when there is nothing (left) to do."""
    with transaction_scope(registry, lane=Lane.JOB) as dbsession:
        row = dbsession.get(ImportJob, import_job_id)
        if row is None:
            return None
        storage = registry[STORAGE_KEY]
        journal = journal_of(import_job_id)
        if row.state == ImportState.DONE:  # the files belong to the committed event
            close_journal(storage, journal)
        elif row.state != ImportState.QUEUED:  # an attempt died (or failed) with files stored
            discarded = discard_journaled(storage, journal)
            log.warning("import %s: deleted %s files of an attempt", import_job_id, discarded)
        if row.state in FINISHED:  # delivered again after it finished: tidy up only
            if row.archive_key is not None:
                storage.delete(row.archive_key)
                row.archive_key = None
            return None
        row.state, row.started_at, row.progress = ImportState.RUNNING, utcnow(), 10
        return row.archive_key, row.user_id, row.strict


@job(max_retries=3)
def run_import(ctx, import_job_id: int, base_url: str | None = None) -> None:
    """Import the job's upload; ``base_url`` is the site's address as the request that
    started it saw it (media files' URLs start with it when the storage gives paths)."""
    claimed = _claim(ctx.registry, import_job_id)
    if claimed is None:
        return
    key, owner_id, strict = claimed
    limits = ArchiveLimits.from_settings(ctx.registry.settings)
    # A folder of this job's own: concurrent imports never share one, and it goes whatever
    # happens.
    with tempfile.TemporaryDirectory(prefix="openevent-import-") as folder:
        path = Path(folder) / "export.zip"
        row = ctx.dbsession.get(ImportJob, import_job_id)
        try:
            try:
                with ctx.storage.open(key) as source, path.open("wb") as target:
                    shutil.copyfileobj(source, target, 1024 * 1024)
            except ObjectNotFound:
                raise ImportFailed("the uploaded file is gone from storage") from None
            # A savepoint: a failing import takes back every row it wrote, and the job's
            # transaction still records the failure.
            with ctx.dbsession.begin_nested():
                event, report = import_archive(
                    ctx.dbsession,
                    path,
                    owner_id=owner_id,
                    strict=strict,
                    limits=limits,
                    base_url=base_url,
                    journal=journal_of(import_job_id),
                )
        except ImportFailed as exc:
            log.info("import %s failed: %s", import_job_id, exc)
            row.state, row.error = ImportState.FAILED, exc.as_dict()
        else:
            row.state, row.event_id, row.report = ImportState.DONE, event.id, report.as_dict()
    row.progress, row.finished_at, row.archive_key = 100, utcnow(), None
    # The upload goes once the outcome is committed; a redelivery before that still finds it.
    ctx.dbsession.info["transaction_manager"].get().addAfterCommitHook(
        lambda committed: committed and ctx.storage.delete(key)
    )
