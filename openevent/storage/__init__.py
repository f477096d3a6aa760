"""File storage: one interface (:class:`IStorage`) over the local, memory and (soon) GCS backends.

``config.include("openevent.storage")`` builds the backend the ``openevent.storage`` setting
names and makes it ``registry["openevent.storage"]``, ``request.storage`` and, in jobs,
``ctx.storage``; it serves objects at ``GET /files/{key}`` (:mod:`openevent.storage.views`).
Features and plugins store files only through it, never through a path or a bucket of their
own. See docs/storage.md.
"""

from openevent.storage.interface import DEFAULT_URL_EXPIRY, IStorage, ObjectNotFound, StoredFile
from openevent.storage.keys import InvalidKey, validate_key, validate_prefix
from openevent.storage.local import LocalStorage
from openevent.storage.memory import MemoryStorage

STORAGE_KEY = "openevent.storage"

__all__ = [
    "DEFAULT_URL_EXPIRY",
    "STORAGE_KEY",
    "IStorage",
    "InvalidKey",
    "LocalStorage",
    "MemoryStorage",
    "ObjectNotFound",
    "StoredFile",
    "build_storage",
    "validate_key",
    "validate_prefix",
]


class NotBuiltStorage:
    """Stands in for a backend not built yet: the app starts, and any use says so."""

    def __init__(self, name: str, issue: str):
        self._message = f"{name} storage arrives with {issue}"

    def _refuse(self, *args, **kwargs):
        raise NotImplementedError(self._message)

    put = open = stat = delete = exists = url = verify_signed = list = _refuse


def build_storage(settings) -> IStorage:
    """The storage backend that ``settings`` (parsed by openevent.settings) name."""
    backend = settings["openevent.storage"]
    secret = settings["openevent.secret"]
    if backend == "memory":
        return MemoryStorage(secret)
    if backend == "local":
        return LocalStorage(settings["openevent.storage.local_path"], secret)
    # "gcs": the setting is accepted (production.ini names it), the backend is not built yet.
    return NotBuiltStorage(backend, "issue 11")


def _request_storage(request) -> IStorage:
    return request.registry[STORAGE_KEY]


def includeme(config):
    config.registry[STORAGE_KEY] = build_storage(config.registry.settings)
    config.add_request_method(_request_storage, "storage", reify=True)
    config.add_route("storage.file", "/files/*key")
    config.scan("openevent.storage.views")
