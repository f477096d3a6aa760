"""What every storage backend offers: :class:`IStorage`, and the :class:`StoredFile` it returns."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO, Protocol, runtime_checkable

# How long a signed URL stays valid when ``url()`` is not told.
DEFAULT_URL_EXPIRY = timedelta(hours=1)
# ``cache_control`` for an object that never changes under its key (a new version gets a new
# key): caches may keep it for a year without asking again.
IMMUTABLE = "public, max-age=31536000, immutable"


class ObjectNotFound(LookupError):
    """``open``, ``stat`` or ``url`` of a key that holds no object."""


class StorageError(RuntimeError):
    """The storage service cannot do what was asked: a missing bucket, no credentials, a
    permission denied, an unreachable service. The message says which, in one line."""


@dataclass(frozen=True)
class StoredFile:
    """One stored object's metadata."""

    key: str
    size: int
    content_type: str
    etag: str  # the MD5 of the content, hex: the same on every backend
    public: bool = False
    cache_control: str | None = None
    # When the object was last written, timezone-aware UTC (to the second on some backends).
    last_modified: datetime | None = None


@runtime_checkable
class IStorage(Protocol):
    """A place to keep files under validated keys (see :mod:`openevent.storage.keys`).

    ``put`` takes bytes or a readable binary stream, copied in chunks; ``open`` returns a
    readable binary stream (the caller closes it) and raises :class:`ObjectNotFound` for a
    missing key; ``delete`` of a missing key does nothing. ``url`` is the public URL of a
    public object, or a signed URL valid for ``expires`` (seconds or a timedelta) for a
    private one. ``list`` returns the objects whose keys start with ``prefix``, by key.
    """

    def put(
        self,
        key: str,
        data: bytes | BinaryIO,
        content_type: str,
        *,
        public: bool = False,
        cache_control: str | None = None,
    ) -> StoredFile: ...

    def open(self, key: str) -> BinaryIO: ...

    def stat(self, key: str) -> StoredFile: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def url(self, key: str, *, expires: int | timedelta | None = None) -> str: ...

    def list(self, prefix: str = "") -> list[StoredFile]: ...
