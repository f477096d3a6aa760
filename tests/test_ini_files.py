"""The shipped ini files load as an operator would use them."""

from pathlib import Path

import pytest
from pyramid.paster import get_app, get_appsettings

from openevent.jobs import IN_PROCESS_WORKER_KEY
from openevent.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "OPENEVENT_DATABASE_URL": "postgresql://openevent@db.internal/openevent",
    "OPENEVENT_SECRET": "x" * 48,
    "OPENEVENT_BROKER_URL": "redis://cache.internal:6379/0",
    "OPENEVENT_STORAGE_GCS_BUCKET": "openevent-files",
}


@pytest.fixture
def clean_environ(monkeypatch):
    for name in (*PRODUCTION_ENV, "OPENEVENT_STORAGE", "OPENEVENT_IN_PROCESS_WORKER"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_development_ini_needs_no_service(clean_environ, tmp_path):
    settings = load_settings(get_appsettings(str(ROOT / "development.ini")))
    assert settings["sqlalchemy.url"] == f"sqlite:///{ROOT}/var/openevent.sqlite"
    assert settings["openevent.broker_url"] == "stub"
    assert settings["openevent.jobs.in_process_worker"] is True
    assert settings["openevent.storage"] == "local"

    clean_environ.setenv("OPENEVENT_DATABASE_URL", f"sqlite:///{tmp_path}/dev.sqlite")
    app = get_app(str(ROOT / "development.ini"))
    # As pserve runs it: jobs in the web process. Stopped here, or its thread would outlive
    # the test (relaying an outbox whose database is gone).
    worker = app.registry[IN_PROCESS_WORKER_KEY]
    worker.stop()
    app.registry["dbengine"].dispose()
    assert not worker.thread.is_alive()


def test_production_ini_takes_its_secrets_from_the_environment(clean_environ):
    text = (ROOT / "production.ini").read_text()
    assert "sqlalchemy.url" not in text and "openevent.secret =" not in text
    with pytest.raises(SystemExit, match=r"sqlalchemy\.url: required"):
        get_app(str(ROOT / "production.ini"))

    for name, value in PRODUCTION_ENV.items():
        clean_environ.setenv(name, value)
    settings = load_settings(get_appsettings(str(ROOT / "production.ini")))
    assert settings["openevent.storage"] == "gcs"
    assert settings["openevent.storage.gcs_bucket"] == "openevent-files"
    assert settings["openevent.broker_url"] == "redis://cache.internal:6379/0"
    assert settings["openevent.jobs.in_process_worker"] is False
