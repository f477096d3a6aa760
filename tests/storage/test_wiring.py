"""The storage in the app: the setting picks the backend; request.storage, ctx.storage and the
memory_storage fixture reach it."""

from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest
from pyramid.request import Request, apply_request_extensions

import openevent.storage
from openevent.jobs.definitions import JobContext
from openevent.settings import SettingsError, load_settings
from openevent.storage import (
    BACKENDS_GROUP,
    STORAGE_KEY,
    IStorage,
    LocalStorage,
    MemoryStorage,
    backend_names,
    build_storage,
)
from openevent.storage.gcs import GCSStorage

SECRET = "a test secret of some length"


def settings(raw_extra=(), **overrides):
    raw = {"sqlalchemy.url": "sqlite://", "openevent.secret": SECRET, **dict(raw_extra)}
    raw.update({f"openevent.storage{k}": v for k, v in overrides.items()})
    return load_settings(raw)


def test_the_setting_picks_the_backend(tmp_path):
    memory = build_storage(settings(**{"": "memory"}))
    assert isinstance(memory, MemoryStorage)
    local = build_storage(settings(**{"": "local", ".local_path": str(tmp_path / "files")}))
    assert isinstance(local, LocalStorage)
    assert local.root == (tmp_path / "files").resolve()
    for backend in (memory, local):
        assert isinstance(backend, IStorage)


def test_local_is_the_default_and_creates_its_folder_on_first_write(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    storage = build_storage(settings())
    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path / "var" / "files"
    assert not storage.root.exists()
    storage.put("a.txt", b"a", "text/plain")
    assert (tmp_path / "var" / "files" / "a.txt").read_bytes() == b"a"


def test_gcs_is_built_from_its_settings_without_connecting():
    storage = build_storage(settings(**{"": "gcs", ".gcs_bucket": "bucket"}))
    assert isinstance(storage, GCSStorage) and isinstance(storage, IStorage)
    assert storage.bucket_name == "bucket"
    # No client (no credentials looked up, no connection) until the first use.
    assert storage._process_client is None


def test_request_storage_and_job_storage_are_the_registry_one(registry):
    request = Request.blank("/")
    request.registry = registry
    apply_request_extensions(request)
    assert request.storage is registry[STORAGE_KEY]
    context = JobContext(dbsession=None, registry=registry, message_id="m")
    assert context.storage is registry[STORAGE_KEY]
    # The test app's settings choose the memory storage.
    assert isinstance(registry[STORAGE_KEY], MemoryStorage)


def test_memory_storage_fixture_is_the_apps_storage_for_the_test(registry, memory_storage):
    assert memory_storage.list() == []
    request = Request.blank("/")
    request.registry = registry
    apply_request_extensions(request)
    request.storage.put("from/request.txt", b"r", "text/plain")
    JobContext(dbsession=None, registry=registry, message_id="m").storage.put(
        "from/job.txt", b"j", "text/plain"
    )
    assert [s.key for s in memory_storage.list("from/")] == ["from/job.txt", "from/request.txt"]


def test_production_ini_starts_with_gcs(monkeypatch):
    from pyramid.paster import get_app

    root = Path(__file__).parents[2]
    monkeypatch.setenv("OPENEVENT_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("OPENEVENT_SECRET", SECRET)
    monkeypatch.setenv("OPENEVENT_BROKER_URL", "stub")
    monkeypatch.setenv("OPENEVENT_STORAGE_GCS_BUCKET", "openevent-files")
    monkeypatch.delenv("OPENEVENT_STORAGE", raising=False)
    app = get_app(str(root / "production.ini"))
    storage = app.registry[STORAGE_KEY]
    assert isinstance(storage, GCSStorage)
    assert storage.bucket_name == "openevent-files"
    assert storage._process_client is None  # credentials are needed on first use, not before


def test_an_unknown_backend_stops_start_up_naming_the_installed_ones():
    with pytest.raises(
        SettingsError,
        match=r"no storage backend 's3' is installed \(installed: "
        r"gcs, local, memory\)",
    ):
        build_storage(settings(**{"": "s3"}))
    with pytest.raises(SettingsError, match=r"openevent\.storage: expected a storage backend name"):
        settings(**{"": "../local"})


class PluginStorage(MemoryStorage):
    """A plugin's backend: reads a setting of its own."""

    def __init__(self, settings):
        super().__init__(settings["openevent.secret"])
        self.region = settings["openevent_s3.region"]


def test_plugins_add_backends_through_entry_points(monkeypatch):
    plugin = EntryPoint("s3", f"{__name__}:PluginStorage", BACKENDS_GROUP)
    installed = [*entry_points(group=BACKENDS_GROUP), plugin]
    monkeypatch.setattr(
        openevent.storage,
        "entry_points",
        lambda group: installed if group == BACKENDS_GROUP else [],
    )
    assert backend_names() == ["gcs", "local", "memory", "s3"]
    storage = build_storage(settings({"openevent_s3.region": "eu-west-1"}, **{"": "s3"}))
    assert isinstance(storage, PluginStorage) and storage.region == "eu-west-1"
    # Two distributions claiming one name: neither is picked silently.
    installed.append(EntryPoint("s3", "elsewhere:S3", BACKENDS_GROUP))
    with pytest.raises(SettingsError, match="'s3' names several backends"):
        build_storage(settings(**{"": "s3"}))


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("https://cdn.example.org/files/", "https://cdn.example.org/files/events/1/a%20b.png"),
        ("/static-files", "/static-files/events/1/a%20b.png"),
    ],
)
def test_public_base_url_serves_public_objects_elsewhere(tmp_path, base, url):
    storage = build_storage(
        settings(**{"": "local", ".local_path": str(tmp_path), ".public_base_url": base})
    )
    storage.put("events/1/a b.png", b"png", "image/png", public=True)
    storage.put("events/1/private.zip", b"zip", "application/zip")
    assert storage.url("events/1/a b.png") == url
    # Private objects still go through the app's signed URLs.
    assert storage.url("events/1/private.zip").startswith("/files/events/1/private.zip?expires=")


@pytest.mark.parametrize("base", ["cdn.example.org", "ftp://x/", "//cdn.example.org", "/a?b=1"])
def test_public_base_url_must_be_a_url_or_an_absolute_path(base):
    with pytest.raises(SettingsError, match=r"openevent\.storage\.public_base_url"):
        settings(**{".public_base_url": base})
