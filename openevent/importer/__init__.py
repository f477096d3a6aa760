"""Importing Open Event data (docs/import.md): an export, zipped or unpacked, becomes a new event.

Three stages: :mod:`.archive` reads the zip or folder without trusting it, :mod:`.normalize`
turns its files into records with resolved links (repairing what has one clear repair), and
:mod:`.load` writes the rows through the API's own fields. Everything happens in the caller's
transaction, so an import that fails leaves nothing behind.
"""

import os

from openevent.importer import cyclic_gc
from openevent.importer.archive import Archive, ArchiveLimits, ArchiveRefused
from openevent.importer.load import Loader
from openevent.importer.media import ImportedMedia
from openevent.importer.normalize import read_program
from openevent.importer.report import ImportFailed, Report

__all__ = [
    "ArchiveLimits",
    "ArchiveRefused",
    "ImportFailed",
    "Report",
    "import_archive",
]


def import_archive(
    dbsession,
    path: str | os.PathLike,
    *,
    owner_id: int,
    strict: bool = False,
    limits: ArchiveLimits | None = None,
    base_url: str | None = None,
    journal: str | None = None,
    progress=lambda stage: None,
):
    """Import the export at ``path`` as a new event owned by ``owner_id``; return it and the
    :class:`Report`. Raises :class:`ImportFailed` (with ``ArchiveRefused`` turned into it) and
    writes nothing the caller's transaction keeps if anything fails: the media files it stored
    are deleted when it fails, or when the caller's transaction does not commit.
    ``base_url`` (the site's address) makes absolute URLs of the storage's paths for them
    (:mod:`.media`); ``journal``, a storage prefix, records their keys as they are stored, for
    an import job's next delivery if its process is killed. ``progress(stage)`` is called as
    stages end: ``"read"``, ``"loaded"``, ``"written"``.
    """
    report = Report(strict=strict)
    try:
        with (
            cyclic_gc.paused_until_transaction_ends(dbsession),
            Archive.open(path, limits or ArchiveLimits()) as archive,
        ):
            program = read_program(archive, report)
            progress("read")
            media = ImportedMedia(dbsession, archive, report, base_url, journal)
            try:
                event = _load(dbsession, program, owner_id, media)
            except BaseException:
                media.discard()
                raise
            media.discard_unless_committed()
    except ArchiveRefused as exc:
        raise ImportFailed(exc.reason, file=exc.member) from None
    progress("loaded")
    report.count_media(len(media.stored_keys), media.stored_bytes)
    dbsession.flush()
    progress("written")
    return event, report


def _load(dbsession, program, owner_id: int, media: ImportedMedia):
    """The event and its program as rows, with their media files in storage."""
    loader = Loader(dbsession, report=media.report, media=media)
    event = loader.event(program, owner_id)
    dbsession.flush()
    media.event_id = event.id
    loader.program(program, event)
    media.store_pending(event)
    dbsession.flush()
    return event
