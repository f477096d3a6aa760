"""An export's media files (images, slides, audio, video) into storage, and the URLs naming
them rewritten to point there.

Open Event exports carry their media as members of the archive, named in the JSON by relative
URLs (a speaker's ``"photo-url": "/images/speakers/ada.jpg"``, a session's ``slides-url``).
While the rows are loaded, every URL field whose value is such a relative path is handed to
:meth:`ImportedMedia.resolve`, which

- finds the member it names (a leading slash or not, ``%XX`` decoded, relative to the folder of
  the collection files; a path that would lead out of the archive names nothing), and leaves
  the field empty, with a report entry, when the archive holds no such file (an address
  without its scheme, ``www.example.org/ada``, is no file: the URL field refuses it itself);
- copies it into storage under a key of the new event, streamed from the archive (whose limits
  apply), and gives the field the URL this installation gives that file. An image field a
  plugin takes (``add_import_media_handler``: the images plugin takes logos, banners and
  photos, and checks them as its uploads) is stored by that plugin, when it acts for the
  event, as its own uploads are, so its change subscribers process it; any other file is
  stored as ``events/<id>/files/<token>/<name>`` with a content type from its name, never one
  a browser would run (HTML, SVG, scripts);
- keeps absolute URLs as they are: nothing is ever fetched.

The event's own files wait until the event has its id (:meth:`ImportedMedia.store_pending`).
Every key written is remembered: if the import fails, or its transaction does not commit,
:meth:`ImportedMedia.discard` deletes them, so a failed import leaves no file behind. A process
that is killed cannot delete anything, and its transaction is rolled back by the database: an
import job therefore also records each key in its *journal*, small objects of the storage
itself under a prefix of the job (before the file is written, where the key is the importer's
own), and the job's next delivery deletes what a dead attempt recorded
(:func:`discard_journaled`). The journal cannot be a table: on SQLite the import's own
transaction holds the only write lock until it ends.

URL fields hold absolute URLs, and the storage may serve files at paths of the app
(``/files/<key>``): such a path is prefixed with ``base_url``, the site's address (the API
import's request gives it; ``openevent import`` takes ``--base-url``).
"""

import hashlib
import logging
import mimetypes
import posixpath
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from openevent.api.fields import Url
from openevent.importer.archive import Archive, ArchiveRefused
from openevent.importer.report import ImportFailed, Report
from openevent.plugins import is_enabled_for_event, plugin_of
from openevent.storage import (
    IMAGE_TYPES,
    IMMUTABLE,
    STORAGE_KEY,
    InvalidKey,
    image_type_of,
    validate_key,
)

log = logging.getLogger(__name__)

HANDLERS_KEY = "openevent.importer.media_handlers"
# What a guessed content type may be: a browser shows these or hands them to an application,
# and never runs them as a page (the storage also sends nosniff, and attachment for non-images).
_SAFE_MAIN_TYPES = {"audio", "video", "image", "font"}
_SAFE_TYPES = {"text/plain"}
_UNSAFE_TYPES = {"image/svg+xml"}
_SAFE_APPLICATION_PREFIXES = ("application/pdf", "application/vnd.", "application/zip")
_FALLBACK_TYPE = "application/octet-stream"
_ABSOLUTE_PREFIXES = ("https://", "http://")


class MediaRejected(Exception):
    """A media file a handler does not store (not a real image, too large): ``reason`` says
    why; the import leaves the field empty and reports it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# store(registry, event_id, stream) -> the key it stored the file under; MediaRejected if not.
StoreMedia = Callable[[object, int, BinaryIO], str]


@dataclass(frozen=True)
class MediaHandler:
    """Who stores the files of some URL fields, given as (resource type, API name)."""

    store: StoreMedia
    fields: frozenset[tuple[str, str]]


def add_import_media_handler(config, store: StoreMedia, fields: Iterable[tuple[str, str]]):
    """Let ``store`` keep the imported files of ``fields`` (``("speaker", "photo-url")``),
    instead of the importer's own storing, for events its plugin acts for.

    ``store(registry, event_id, stream)`` reads the member from ``stream``, stores it (public)
    and returns its key, or raises :class:`MediaRejected`. The field gets the storage's URL
    of that key.
    """
    handlers = config.registry.setdefault(HANDLERS_KEY, [])
    handlers.append(MediaHandler(store, frozenset(fields)))


def content_type(member: str, head: bytes) -> str:
    """The content type a stored media file gets: from its name (``mimetypes``), kept only if
    no browser would run it, and for images only if its first bytes are that image's."""
    guessed, _ = mimetypes.guess_type(member, strict=False)
    if guessed is None or guessed in _UNSAFE_TYPES:
        return _FALLBACK_TYPE
    if guessed in IMAGE_TYPES:
        return guessed if image_type_of(head) == guessed else _FALLBACK_TYPE
    main = guessed.split("/", 1)[0]
    if (
        main in _SAFE_MAIN_TYPES
        or guessed in _SAFE_TYPES
        or guessed.startswith(_SAFE_APPLICATION_PREFIXES)
    ):
        return guessed
    return _FALLBACK_TYPE


def _file_name(member: str) -> str:
    """The member's name as the last segment of a key, or ``file`` with its extension."""
    name = posixpath.basename(member)
    try:
        validate_key(name)
    except InvalidKey:
        extension = posixpath.splitext(name)[1].lower()
        name = "file" + (extension if extension[1:].isalnum() and len(extension) <= 10 else "")
    return name


@dataclass(frozen=True)
class _Pending:
    """A file of the event's own fields, stored once the event has its id."""

    type_: str
    id_: object  # the event's id in the file
    key: str
    attr: str  # the model attribute the field sets
    member: str


@dataclass
class ImportedMedia:
    """The media of one import: what it stored, and the event's files still to store."""

    dbsession: object
    archive: Archive
    report: Report
    base_url: str | None = None
    # A storage prefix where each stored key is recorded at once (an import job's; see above).
    journal: str | None = None
    event_id: int | None = None  # set once the new event has its id
    stored_keys: list[str] = field(default_factory=list)
    stored_bytes: int = 0
    # (member, handler) -> its URL: a file several rows name is stored once.
    _urls: dict[tuple[str, MediaHandler | None], str] = field(default_factory=dict)
    _pending: list[_Pending] = field(default_factory=list)

    def __post_init__(self):
        self.registry = self.dbsession.info["registry"]
        # Taken once: the files go back to the storage they were put in.
        self.storage = self.registry[STORAGE_KEY]

    def resolve(self, type_: str, file: str, id_, key: str, spec, value):
        """The value field ``key`` (``spec``) of a ``type_`` record gets: ``value``, unless it
        is a URL field given a relative path; then the stored member's URL, or None (reported)
        if there is none."""
        if not isinstance(spec, Url):
            return value
        relative = _relative_path(value)
        if relative is None:
            return value
        member = self.archive.member_at(relative)
        if member is None:
            if not _names_a_file(relative):
                return value  # a host without its scheme: the URL field says what is wrong
            self.report.skipped(
                file, id_, f"{key}: {value!r} names no file of the archive; left empty"
            )
            return None
        if self.event_id is None:
            self._pending.append(_Pending(type_, id_, key, spec.attr, member))
            return None
        return self._url(type_, file, id_, key, member)

    def store_pending(self, event) -> None:
        """Store the event's own files, now that it has an id, and set its fields."""
        pending, self._pending = self._pending, []
        for item in pending:
            url = self._url(item.type_, "event", item.id_, item.key, item.member)
            if url is not None:
                setattr(event, item.attr, url)

    def discard(self) -> None:
        """Delete every file this import stored (it failed, or did not commit), then its
        journal."""
        keys, self.stored_keys = self.stored_keys, []
        deleted = True
        for key in keys:
            try:
                self.storage.delete(key)
            except Exception:  # a storage outage must not hide why the import failed
                log.exception("import: could not delete the stored file %s", key)
                deleted = False
        if deleted:  # otherwise the journal keeps the keys for the job's next delivery
            self._close_journal()

    def discard_unless_committed(self) -> None:
        """Have the session's transaction delete the stored files if it aborts or fails to
        commit, and close the journal once the files belong to a committed event."""
        manager = self.dbsession.info.get("transaction_manager")
        if manager is None or not self.stored_keys:
            return
        transaction = manager.get()
        transaction.addAfterCommitHook(
            lambda committed: self._close_journal() if committed else self.discard()
        )
        transaction.addAfterAbortHook(self.discard)

    def _record(self, key: str) -> None:
        """Remember ``key`` as this import's, in the journal too when it has one."""
        self.stored_keys.append(key)
        if self.journal is not None:
            self.storage.put(_journal_entry(self.journal, key), key.encode(), "text/plain")

    def _forget(self, key: str) -> None:
        """Take back :meth:`_record` for a file that was not stored after all."""
        self.stored_keys.remove(key)
        if self.journal is not None:
            self.storage.delete(_journal_entry(self.journal, key))

    def _close_journal(self) -> None:
        if self.journal is None:
            return
        try:
            close_journal(self.storage, self.journal)
        except Exception:  # harmless: it names what is committed, or deleted already
            log.exception("import: could not delete the journal %s", self.journal)

    def _url(self, type_: str, file: str, id_, key: str, member: str) -> str | None:
        handler = self._handler(type_, key)
        url = self._urls.get((member, handler))
        if url is None:  # a file refused is refused (and reported) for each row naming it
            url = self._urls[member, handler] = self._store(handler, file, id_, key, member)
        return url

    def _handler(self, type_: str, key: str) -> MediaHandler | None:
        for handler in self.registry.get(HANDLERS_KEY, []):
            if (type_, key) not in handler.fields:
                continue
            plugin = plugin_of(self.registry, handler.store)
            if plugin is None or is_enabled_for_event(self.dbsession, plugin, self.event_id):
                return handler
        return None

    def _store(self, handler, file: str, id_, key: str, member: str) -> str | None:
        try:
            with self.archive.open_member(member) as stream:
                if handler is None:
                    stored_key = self._store_file(stream, member)
                else:
                    # The handler chooses the key: recorded as soon as it is known.
                    stored_key = handler.store(self.registry, self.event_id, stream)
                    self._record(stored_key)
        except (MediaRejected, ArchiveRefused) as exc:
            self.report.skipped(file, id_, f"{key}: {member}: {exc.reason}; not stored, left empty")
            return None
        self.stored_bytes += self.archive.sizes[member]
        return self._absolute(self.storage.url(stored_key))

    def _store_file(self, stream: BinaryIO, member: str) -> str:
        head = stream.peek(16)[:16]
        stored_key = f"events/{self.event_id}/files/{secrets.token_hex(16)}/{_file_name(member)}"
        self._record(stored_key)  # before the file: a process killed while writing it leaves
        try:  # a key its job's next delivery deletes
            self.storage.put(
                stored_key,
                stream,
                content_type(member, head),
                public=True,
                cache_control=IMMUTABLE,  # imported files never change under their key
            )
        except BaseException:
            # A copy that failed half-way (a corrupt member, one longer than it said) leaves
            # nothing, whatever the backend kept of it.
            self.storage.delete(stored_key)
            self._forget(stored_key)
            raise
        return stored_key

    def _absolute(self, url: str) -> str:
        if "://" in url:
            return url
        if not self.base_url:
            raise ImportFailed(
                "the storage serves files at this site's own paths (" + url + "): the import "
                "needs the site's address to give media files URLs (openevent import --base-url)"
            )
        return self.base_url.rstrip("/") + url


def journal_of(import_job_id: int) -> str:
    """The storage prefix of an import job's journal."""
    return f"imports/{import_job_id}/stored/"


def _journal_entry(journal: str, key: str) -> str:
    return journal + hashlib.sha256(key.encode()).hexdigest()


def discard_journaled(storage, journal: str) -> int:
    """Delete the files an import recorded in ``journal`` and did not commit (its process was
    killed), each with its entry; how many files."""
    entries = storage.list(journal)
    for entry in entries:
        with storage.open(entry.key) as stream:
            storage.delete(stream.read().decode())
        storage.delete(entry.key)
    return len(entries)


def close_journal(storage, journal: str) -> None:
    """Delete ``journal`` itself: its files belong to a committed event, or are gone."""
    for entry in storage.list(journal):
        storage.delete(entry.key)


def is_absolute_url(value) -> bool:
    """Whether ``value`` is plainly an absolute http(s) URL, which names no file of the archive
    (most URLs of real exports are: told apart without parsing them)."""
    return type(value) is str and value.startswith(_ABSOLUTE_PREFIXES)


def _relative_path(value) -> str | None:
    """The path ``value`` names if it is a relative URL (``/images/a.jpg``, ``images/a.jpg``),
    decoded; None for anything else (an absolute URL, ``//host/...``, an empty value)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    # Most URLs of real exports are absolute: tell them apart without parsing them.
    if not text or text.startswith((*_ABSOLUTE_PREFIXES, "//")):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:  # a malformed host: not a path, and the URL field says why
        return None
    if parts.scheme or parts.netloc:
        return None
    return unquote(parts.path)


def _names_a_file(path: str) -> bool:
    """Whether a relative URL's path is meant as a file of the archive (``/images/a.jpg``,
    ``slides/a.pdf``) rather than an address without its scheme (``www.example.org/ada``,
    ``@ada``), which the URL field refuses with its own reason."""
    if path.startswith("/"):
        return True
    first, slash, _ = path.partition("/")
    return bool(slash) and "." not in first


def includeme(config):
    config.add_directive("add_import_media_handler", add_import_media_handler)
