"""`openevent images reprocess CONFIG [--event ID]`: every image made again with the settings."""

from datetime import UTC, datetime

import pytest
from pictures import detailed, jpeg
from sqlalchemy import create_engine, insert, select

from openevent.cli import main
from openevent.cli.api import app_registry
from openevent.db.session import database_url
from openevent.models import Event, Speaker
from openevent.storage import STORAGE_KEY
from openevent_images.keys import new_token, original_key

HOST = "https://events.example.org"


@pytest.fixture
def site(ini_file, tmp_path, monkeypatch):
    """``site(extra)``: the path of an ini file (rewritten each call) on a migrated database,
    with a local storage under the test's folder."""
    monkeypatch.setenv("OPENEVENT_STORAGE", "local")
    monkeypatch.setenv("OPENEVENT_STORAGE_LOCAL_PATH", str(tmp_path / "files"))

    def _site(extra: str = "") -> str:
        return ini_file("openevent.plugins = images\n" + extra)

    assert main(["db", "upgrade", _site()]) == 0
    return _site


def _uploaded(config: str, event_id: int, data: bytes) -> str:
    """An upload of the event, stored as the upload route stores it; its URL."""
    with app_registry(config) as registry:
        storage = registry[STORAGE_KEY]
        key = original_key(event_id, new_token(), "jpg")
        storage.put(key, data, "image/jpeg", public=True)
        return HOST + storage.url(key)


def _files(config: str) -> set[str]:
    with app_registry(config) as registry:
        return {stored.key for stored in registry[STORAGE_KEY].list("events/")}


def _add_event(url: str, event_id: int, **images) -> None:
    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        connection.execute(
            insert(Event).values(
                id=event_id,
                identifier=f"ev{event_id}",
                name=f"Event {event_id}",
                starts_at=datetime(2030, 1, 1, 9, tzinfo=UTC),
                ends_at=datetime(2030, 1, 2, 9, tzinfo=UTC),
                timezone="UTC",
                original_image_url=images.get("banner"),
                logo_url=images.get("logo"),
            )
        )
        if "photo" in images:
            connection.execute(
                insert(Speaker).values(event_id=event_id, name="Ada", photo_url=images["photo"])
            )
    engine.dispose()


def _columns(url: str) -> dict:
    engine = create_engine(database_url(url))
    with engine.connect() as connection:
        events = connection.execute(
            select(Event.id, Event.large_image_url, Event.icon_image_url, Event.logo_url)
        ).all()
        speakers = connection.execute(select(Speaker.event_id, Speaker.small_image_url)).all()
    engine.dispose()
    return {
        "events": {row.id: row._asdict() for row in events},
        "speakers": {row.event_id: row.small_image_url for row in speakers},
    }


def test_reprocess_makes_every_image_again_with_the_settings(site, empty_database_url, capsys):
    config = site()
    banner, logo, photo = (
        _uploaded(config, 1, jpeg(detailed(1600, 900))),
        _uploaded(config, 1, jpeg(detailed(900, 900))),
        _uploaded(config, 1, jpeg(detailed(600, 800))),
    )
    _add_event(empty_database_url, 1, banner=banner, logo=logo, photo=photo)
    _add_event(empty_database_url, 2, banner=_uploaded(config, 2, jpeg(detailed(800, 600))))
    # Rows written without the app (an import, a restore): no job ever processed them.
    before = _columns(empty_database_url)
    assert before["events"][1]["large_image_url"] is None

    assert main(["images", "reprocess", config]) == 0
    assert capsys.readouterr().out.strip() == "4 of 4 images processed"
    first = _columns(empty_database_url)
    event = first["events"][1]
    assert event["large_image_url"].startswith(HOST + "/files/events/1/uploads/")
    assert event["logo_url"] != logo and "/original." not in event["logo_url"]
    assert first["speakers"][1].startswith(HOST + "/files/events/1/uploads/")
    assert first["events"][2]["icon_image_url"] is not None
    files = _files(config)

    # Another quality: new files under new keys, the old ones deleted, the originals kept.
    config = site("images.jpeg_quality = 50\n")
    assert main(["images", "reprocess", config, "--event", "1"]) == 0
    assert capsys.readouterr().out.strip() == "3 of 3 images processed"
    second = _columns(empty_database_url)
    assert second["events"][1]["large_image_url"] != event["large_image_url"]
    assert second["events"][1]["logo_url"] != event["logo_url"]
    assert second["speakers"][1] != first["speakers"][1]
    assert second["events"][2] == first["events"][2]  # another event: untouched
    now = _files(config)
    originals = {key for key in files if "/original." in key}
    assert originals <= now
    event_1_outputs = {k for k in files if k.startswith("events/1/") and k not in originals}
    assert not event_1_outputs & now
    assert len(now) == len(files)

    # The same settings again: the same keys, nothing to delete.
    assert main(["images", "reprocess", config, "--event", "1"]) == 0
    assert _columns(empty_database_url) == second
    assert _files(config) == now
