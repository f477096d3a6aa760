"""Importing Open Event data (docs/import.md): an export, zipped or unpacked, becomes a new event.

Three stages: :mod:`.archive` reads the zip or folder without trusting it, :mod:`.normalize`
turns its files into records with resolved links (repairing what has one clear repair), and
:mod:`.load` writes the rows through the API's own fields. Everything happens in the caller's
transaction, so an import that fails leaves nothing behind.
"""

import os

from openevent.importer.archive import Archive, ArchiveLimits, ArchiveRefused
from openevent.importer.load import Loader
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
    progress=lambda stage: None,
):
    """Import the export at ``path`` as a new event owned by ``owner_id``; return it and the
    :class:`Report`. Raises :class:`ImportFailed` (with ``ArchiveRefused`` turned into it) and
    writes nothing the caller's transaction keeps if anything fails. ``progress(stage)`` is
    called as stages end: ``"read"``, ``"loaded"``, ``"written"``.
    """
    report = Report(strict=strict)
    try:
        with Archive.open(path, limits or ArchiveLimits()) as archive:
            program = read_program(archive, report)
    except ArchiveRefused as exc:
        raise ImportFailed(exc.reason, file=exc.member) from None
    progress("read")
    loader = Loader(dbsession, report)
    event = loader.event(program, owner_id)
    loader.program(program, event)
    progress("loaded")
    dbsession.flush()
    progress("written")
    return event, report
