"""The memory storage: objects in a dict, for tests (``openevent.testing``'s ``memory_storage``).

Thread-safe: a lock guards the dict, and ``put`` reads its whole input before storing it, so
concurrent writers of one key leave one writer's whole object.
"""

import io
import shutil
import threading
from datetime import UTC, datetime

from openevent.storage._common import CHUNK_SIZE, HashingWriter, as_stream
from openevent.storage.interface import ObjectNotFound, StoredFile
from openevent.storage.keys import validate_key, validate_prefix
from openevent.storage.signing import SignedURLs


def from_settings(settings) -> "MemoryStorage":
    """The backend ``openevent.storage = memory`` names (entry point group openevent.storages)."""
    return MemoryStorage(
        settings["openevent.secret"], public_base_url=settings["openevent.storage.public_base_url"]
    )


class MemoryStorage(SignedURLs):
    def __init__(self, secret: str, *, public_base_url: str = ""):
        self._secret = secret
        self._public_base_url = public_base_url
        self._lock = threading.Lock()
        self._objects: dict[str, tuple[StoredFile, bytes]] = {}

    def put(self, key, data, content_type, *, public=False, cache_control=None) -> StoredFile:
        validate_key(key)
        buffer = io.BytesIO()
        writer = HashingWriter(buffer)
        shutil.copyfileobj(as_stream(data), writer, CHUNK_SIZE)
        stored = StoredFile(
            key=key,
            size=writer.size,
            content_type=content_type,
            etag=writer.md5.hexdigest(),
            public=public,
            cache_control=cache_control,
            last_modified=datetime.now(UTC),
        )
        with self._lock:
            self._objects[key] = (stored, buffer.getvalue())
        return stored

    def _get(self, key) -> tuple[StoredFile, bytes]:
        validate_key(key)
        with self._lock:
            found = self._objects.get(key)
        if found is None:
            raise ObjectNotFound(key)
        return found

    def open(self, key):
        return io.BytesIO(self._get(key)[1])

    def stat(self, key) -> StoredFile:
        return self._get(key)[0]

    def delete(self, key) -> None:
        validate_key(key)
        with self._lock:
            self._objects.pop(key, None)

    def exists(self, key) -> bool:
        validate_key(key)
        with self._lock:
            return key in self._objects

    def list(self, prefix: str = "") -> list[StoredFile]:
        validate_prefix(prefix)
        with self._lock:
            found = [stored for key, (stored, _) in self._objects.items() if key.startswith(prefix)]
        return sorted(found, key=lambda stored: stored.key)

    def clear(self) -> None:
        """Forget every object (between tests)."""
        with self._lock:
            self._objects.clear()
