"""File storage: one interface (:class:`IStorage`) over the local, memory and GCS backends.

``config.include("openevent.storage")`` builds the backend the ``openevent.storage`` setting
names and makes it ``registry["openevent.storage"]``, ``request.storage`` and, in jobs,
``ctx.storage``; it serves objects at ``GET /files/{key}`` (:mod:`openevent.storage.views`).
Features and plugins store files only through it, never through a path or a bucket of their
own. See docs/storage.md.
"""

from importlib.metadata import entry_points

from openevent.settings import SettingsError
from openevent.storage.interface import (
    DEFAULT_URL_EXPIRY,
    IMMUTABLE,
    IStorage,
    ObjectNotFound,
    StorageError,
    StoredFile,
)
from openevent.storage.keys import InvalidKey, validate_key, validate_prefix
from openevent.storage.local import LocalStorage
from openevent.storage.memory import MemoryStorage
from openevent.storage.types import IMAGE_TYPES, image_type_of

STORAGE_KEY = "openevent.storage"
BACKENDS_GROUP = "openevent.storages"

__all__ = [
    "BACKENDS_GROUP",
    "DEFAULT_URL_EXPIRY",
    "IMAGE_TYPES",
    "IMMUTABLE",
    "STORAGE_KEY",
    "IStorage",
    "InvalidKey",
    "LocalStorage",
    "MemoryStorage",
    "ObjectNotFound",
    "StorageError",
    "StoredFile",
    "backend_names",
    "build_storage",
    "image_type_of",
    "validate_key",
    "validate_prefix",
]


def backend_names() -> list[str]:
    """The names ``openevent.storage`` may take: the installed backends, by name."""
    return sorted({entry_point.name for entry_point in entry_points(group=BACKENDS_GROUP)})


def build_storage(settings) -> IStorage:
    """The storage backend that ``settings`` (parsed by openevent.settings) name.

    Backends are the entry points of the group ``openevent.storages``: openevent's own
    (``local``, ``memory``, ``gcs``) and any a plugin distribution adds. Each names a
    ``from_settings(settings)`` factory returning an :class:`IStorage`.
    """
    name = settings["openevent.storage"]
    found = [ep for ep in entry_points(group=BACKENDS_GROUP) if ep.name == name]
    if not found:
        raise SettingsError(
            f"openevent.storage: no storage backend {name!r} is installed "
            f"(installed: {', '.join(backend_names())})"
        )
    if len(found) > 1:
        where = ", ".join(sorted(ep.value for ep in found))
        raise SettingsError(f"openevent.storage: {name!r} names several backends: {where}")
    return found[0].load()(settings)


def _request_storage(request) -> IStorage:
    return request.registry[STORAGE_KEY]


def includeme(config):
    config.registry[STORAGE_KEY] = build_storage(config.registry.settings)
    config.add_request_method(_request_storage, "storage", reify=True)
    config.add_route("storage.file", "/files/*key")
    config.scan("openevent.storage.views")
