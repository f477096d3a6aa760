from decimal import Decimal

import pytest

from openevent import main
from openevent.settings import SettingsError, load_settings

BASE = {"sqlalchemy.url": "sqlite://", "openevent.secret": "0123456789abcdef"}


def test_defaults_are_typed():
    settings = load_settings(BASE, environ={})
    assert settings["openevent.broker_url"] == "stub"
    assert settings["openevent.jobs.in_process_worker"] is False
    assert settings["openevent.db.pool_size"] == 10


def test_ini_strings_are_parsed():
    raw = {**BASE, "openevent.jobs.in_process_worker": "yes", "openevent.db.pool_size": " 12 "}
    settings = load_settings(raw, environ={})
    assert settings["openevent.jobs.in_process_worker"] is True
    assert settings["openevent.db.pool_size"] == 12


def test_environment_overrides_ini():
    environ = {
        "OPENEVENT_DATABASE_URL": "postgresql://db.example/openevent",
        "OPENEVENT_BROKER_URL": "redis://cache:6379/0",
        "OPENEVENT_STORAGE": "memory",
        "OPENEVENT_SECRET": "from-the-environment",
    }
    settings = load_settings(BASE, environ=environ)
    assert settings["sqlalchemy.url"] == "postgresql://db.example/openevent"
    assert settings["openevent.broker_url"] == "redis://cache:6379/0"
    assert settings["openevent.storage"] == "memory"
    assert settings["openevent.secret"] == "from-the-environment"


def test_undeclared_keys_pass_through():
    settings = load_settings({**BASE, "pyramid.reload_templates": "true"}, environ={})
    assert settings["pyramid.reload_templates"] == "true"


@pytest.mark.parametrize(
    ("raw", "environ", "message"),
    [
        ({"openevent.secret": "0123456789abcdef"}, {}, "sqlalchemy.url: required"),
        ({"sqlalchemy.url": "sqlite://"}, {}, "openevent.secret: required"),
        ({**BASE, "sqlalchemy.url": "not a url"}, {}, "sqlalchemy.url: expected a database URL"),
        ({**BASE, "sqlalchemy.url": "mysql://x/y"}, {}, "sqlalchemy.url: only sqlite"),
        ({**BASE, "openevent.broker_url": "kafka://x"}, {}, "openevent.broker_url: expected stub"),
        ({**BASE, "openevent.storage": "S3 bucket"}, {}, "openevent.storage: expected a storage"),
        ({**BASE, "openevent.db.pool_size": "many"}, {}, "openevent.db.pool_size: invalid"),
        ({**BASE, "openevent.db.pool_size": "0"}, {}, "openevent.db.pool_size: expected a pos"),
        ({**BASE, "openevent.jobs.in_process_worker": "perhaps"}, {}, "in_process_worker: exp"),
        ({**BASE, "openevent.storage": "gcs"}, {}, "openevent.storage.gcs_bucket: required"),
        (BASE, {"OPENEVENT_SECRET": "short"}, "environment variable OPENEVENT_SECRET"),
    ],
)
def test_bad_settings_name_the_key(raw, environ, message):
    with pytest.raises(SettingsError) as excinfo:
        load_settings(raw, environ=environ)
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_main_stops_with_one_line(monkeypatch):
    monkeypatch.delenv("OPENEVENT_SECRET", raising=False)
    with pytest.raises(SystemExit) as excinfo:
        main({}, **{"sqlalchemy.url": "sqlite://"})
    assert str(excinfo.value).startswith("openevent: configuration error: openevent.secret:")


def test_typed_values_are_kept():
    settings = load_settings({**BASE, "openevent.db.pool_size": 3}, environ={})
    assert settings["openevent.db.pool_size"] == 3
    assert not isinstance(settings["openevent.db.pool_size"], Decimal)
