"""The local storage: files under a root folder (``openevent.storage.local_path``).

Layout: the object ``events/1/logo.png`` is the file ``<root>/events/1/logo.png``, its metadata
(content type, public, cache control, MD5) the JSON file ``<root>/events/1/.logo.png.meta.json``
beside it. Keys never have a segment starting with ``.`` (see :mod:`openevent.storage.keys`), so
those hidden files, and the temporary ``.tmp-*`` files writes go through, never collide with
an object.

Each file is written to a temporary file in its final folder and ``os.replace``d into place:
a crash leaves at most a stray ``.tmp-*`` file, never half an object under its key, and of
concurrent writers of one key the last rename wins whole. The content is renamed before its
metadata, under a lock per key within the process, so writers in one process never leave one
writer's content with another's metadata; across processes a reader may for a moment see new
content with the previous metadata (never a mix of contents).
"""

import dataclasses
import json
import os
import shutil
import tempfile
import threading
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from openevent.storage._common import CHUNK_SIZE, HashingWriter, as_stream
from openevent.storage.interface import ObjectNotFound, StoredFile
from openevent.storage.keys import InvalidKey, validate_key, validate_prefix
from openevent.storage.signing import SignedURLs

_META_SUFFIX = ".meta.json"
_TEMP_PREFIX = ".tmp-"
# Locks striped by key: enough to serialise writers of one key without a lock per key ever seen.
_STRIPES = 64


def from_settings(settings) -> "LocalStorage":
    """The backend ``openevent.storage = local`` names (entry point group openevent.storages)."""
    return LocalStorage(
        settings["openevent.storage.local_path"],
        settings["openevent.secret"],
        public_base_url=settings["openevent.storage.public_base_url"],
    )


def _modified(status: os.stat_result) -> datetime:
    # The content file's modification time: the rename keeps the time its write ended.
    return datetime.fromtimestamp(status.st_mtime, UTC)


class LocalStorage(SignedURLs):
    def __init__(self, root: str | os.PathLike, secret: str, *, public_base_url: str = ""):
        self.root = Path(root).resolve()
        self._secret = secret
        self._public_base_url = public_base_url
        self._locks = [threading.Lock() for _ in range(_STRIPES)]

    def _path(self, key: str) -> Path:
        validate_key(key)
        path = (self.root / key).resolve()
        # Keys cannot hold "..", but a symlink planted under the root could still lead out.
        if not path.is_relative_to(self.root) or path == self.root:
            raise InvalidKey(f"key {key!r} resolves outside the storage folder")
        return path

    @staticmethod
    def _meta_path(path: Path) -> Path:
        return path.with_name(f".{path.name}{_META_SUFFIX}")

    def _write_temporary(self, path: Path, write) -> str:
        """Call ``write(file)`` on a new temporary file beside ``path``; return its path.

        The caller renames it into place; a failed write leaves no temporary file behind.
        """
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as file:
                write(file)
                file.flush()
                os.fsync(file.fileno())
            return temporary
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def put(self, key, data, content_type, *, public=False, cache_control=None) -> StoredFile:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidKey(f"key {key!r}: a folder of it is an object already") from None
        if path.is_dir():
            raise InvalidKey(f"key {key!r} is a folder of other objects")
        source = as_stream(data)
        hashing = None

        def write_content(file):
            nonlocal hashing
            hashing = HashingWriter(file)
            shutil.copyfileobj(source, hashing, CHUNK_SIZE)

        content = self._write_temporary(path, write_content)
        stored = StoredFile(
            key=key,
            size=hashing.size,
            content_type=content_type,
            etag=hashing.md5.hexdigest(),
            public=public,
            cache_control=cache_control,
        )
        meta = {
            "content_type": content_type,
            "etag": stored.etag,
            "public": public,
            "cache_control": cache_control,
        }
        try:
            metadata = self._write_temporary(
                path, lambda file: file.write(json.dumps(meta).encode("utf-8"))
            )
        except BaseException:
            os.unlink(content)
            raise
        with self._locks[hash(key) % _STRIPES]:
            os.replace(content, path)
            os.replace(metadata, self._meta_path(path))
            modified = _modified(path.stat())
        return dataclasses.replace(stored, last_modified=modified)

    def _stored(self, key: str, path: Path) -> StoredFile:
        try:
            status = path.stat()
            meta = json.loads(self._meta_path(path).read_bytes())
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None
        if not path.is_file():
            raise ObjectNotFound(key)
        return StoredFile(
            key=key,
            size=status.st_size,
            content_type=meta["content_type"],
            etag=meta["etag"],
            public=meta["public"],
            cache_control=meta["cache_control"],
            last_modified=_modified(status),
        )

    def stat(self, key) -> StoredFile:
        return self._stored(key, self._path(key))

    def open(self, key):
        path = self._path(key)
        try:
            return path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    def delete(self, key) -> None:
        path = self._path(key)
        with self._locks[hash(key) % _STRIPES]:
            for file in (path, self._meta_path(path)):
                with suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    file.unlink()

    def exists(self, key) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[StoredFile]:
        validate_prefix(prefix)
        # Walk only the deepest folder the prefix names completely.
        folder = prefix.rpartition("/")[0]
        start = self.root / folder
        if not start.is_dir():
            return []
        found = []
        for directory, folders, files in os.walk(start):
            folders[:] = [name for name in folders if not name.startswith(".")]
            for name in files:
                if name.startswith("."):
                    continue
                key = Path(directory, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    with suppress(ObjectNotFound):  # deleted while we walked
                        found.append(self._stored(key, Path(directory, name)))
        return sorted(found, key=lambda stored: stored.key)
