"""The storage in the app: the setting picks the backend; request.storage, ctx.storage and the
memory_storage fixture reach it."""

from pathlib import Path

import pytest
from pyramid.request import Request, apply_request_extensions

from openevent.jobs.definitions import JobContext
from openevent.settings import load_settings
from openevent.storage import (
    STORAGE_KEY,
    IStorage,
    LocalStorage,
    MemoryStorage,
    build_storage,
)

SECRET = "a test secret of some length"


def settings(**overrides):
    raw = {"sqlalchemy.url": "sqlite://", "openevent.secret": SECRET}
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


def test_gcs_starts_but_every_use_says_it_is_not_built_yet():
    storage = build_storage(settings(**{"": "gcs", ".gcs_bucket": "bucket"}))
    for call in (
        lambda: storage.put("a.txt", b"a", "text/plain"),
        lambda: storage.open("a.txt"),
        lambda: storage.exists("a.txt"),
        lambda: storage.delete("a.txt"),
        lambda: storage.url("a.txt"),
        lambda: storage.list(""),
    ):
        with pytest.raises(NotImplementedError, match="gcs storage arrives with issue 11"):
            call()


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

    from openevent.storage import NotBuiltStorage

    root = Path(__file__).parents[2]
    monkeypatch.setenv("OPENEVENT_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("OPENEVENT_SECRET", SECRET)
    monkeypatch.setenv("OPENEVENT_BROKER_URL", "stub")
    monkeypatch.setenv("OPENEVENT_STORAGE_GCS_BUCKET", "openevent-files")
    monkeypatch.delenv("OPENEVENT_STORAGE", raising=False)
    app = get_app(str(root / "production.ini"))
    assert isinstance(app.registry[STORAGE_KEY], NotBuiltStorage)
