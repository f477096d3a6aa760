"""The embedded default, as `pserve development.ini` runs it: an uploaded banner is resized by the
worker the app starts in its own process, into the local storage folder, on a SQLite file.

The app is the shipped development.ini's, loaded as pserve loads it; the environment overrides
an operator has (``OPENEVENT_*``) point its database and storage folder at the test's own, and
load this plugin only, as the plugin's other tests do.
"""

import threading
import time
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import pytest
from alembic import command
from pictures import detailed, jpeg
from PIL import Image
from pyramid.paster import get_app, get_appsettings
from webtest import TestApp

from openevent.db import get_engine, transaction_scope
from openevent.db.migrations import alembic_config
from openevent.jobs import IN_PROCESS_WORKER_KEY
from openevent.models import EventState
from openevent.security import issue_token
from openevent.settings import SETTINGS, load_settings
from openevent.testing import JSONAPI_HEADERS, jsonapi_document, make_event, make_user

DEVELOPMENT_INI = str(Path(__file__).resolve().parents[3] / "development.ini")
WAIT_SECONDS = 20
# The sizes' documented boxes (the README's table); None leaves that side free.
BOXES = {
    "large-image-url": (1300, None),
    "thumbnail-image-url": (500, 200),
    "icon-image-url": (75, 30),
}


@pytest.fixture
def files(tmp_path) -> Path:
    """The site's local storage folder."""
    return tmp_path / "files"


@pytest.fixture
def site(tmp_path, files, monkeypatch):
    """development.ini's app on a database and a storage folder of the test's own, migrated to
    heads, its in-process worker running; stopped at the end."""
    for setting in SETTINGS:  # development.ini, not the caller's environment, says the rest
        if setting.env:
            monkeypatch.delenv(setting.env, raising=False)
    monkeypatch.setenv("OPENEVENT_DATABASE_URL", f"sqlite:///{tmp_path / 'openevent.sqlite'}")
    monkeypatch.setenv("OPENEVENT_STORAGE_LOCAL_PATH", str(files))
    monkeypatch.setenv("OPENEVENT_PLUGINS", "images")

    settings = load_settings(get_appsettings(DEVELOPMENT_INI))
    # What makes it the embedded default, which the environment above leaves as it is.
    assert settings["openevent.broker_url"] == "stub"
    assert settings["openevent.jobs.in_process_worker"] is True
    assert settings["openevent.storage"] == "local"
    # `openevent db upgrade development.ini`, without the ini's logging set-up.
    engine = get_engine(settings)
    with engine.begin() as connection:
        command.upgrade(alembic_config(settings, connection=connection), "heads")
    engine.dispose()

    before = set(threading.enumerate())
    app = get_app(DEVELOPMENT_INI)  # as pserve does: ApplicationCreated starts the worker
    worker = app.registry[IN_PROCESS_WORKER_KEY]
    try:
        yield app
    finally:
        worker.stop()
        # The jobs' bookkeeping writer gives its connection back from a thread of its own once
        # idle for a second: wait for it too, so that no thread of the app outlives the test.
        started = set(threading.enumerate()) - before
        for thread in started:
            thread.join(WAIT_SECONDS)
        app.registry["dbengine"].dispose()
    assert not [thread.name for thread in started if thread.is_alive()]


@pytest.fixture
def owner_and_event(site) -> tuple[dict, int]:
    """Authorization headers of an event's owner, and the event's id, committed."""
    with transaction_scope(site.registry) as dbsession:
        owner = make_user(dbsession, password=None)
        event_id = make_event(dbsession, owner=owner, state=EventState.PUBLISHED).id
        token, _ = issue_token(SimpleNamespace(registry=site.registry, dbsession=dbsession), owner)
    return {"Authorization": f"Bearer {token}"}, event_id


def _banner_sizes(testapp, url: str, auth: dict) -> dict:
    """The event's banner sizes once all three are set; fails after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        shown = testapp.get(url, headers=auth).json["data"]["attributes"]
        sizes = {name: shown[name] for name in BOXES}
        if all(sizes.values()):
            return sizes
        assert time.monotonic() < deadline, f"no banner sizes after {WAIT_SECONDS} s: {sizes}"
        time.sleep(0.1)


def test_an_uploaded_banner_is_resized_by_the_in_process_worker(site, owner_and_event, files):
    auth, event_id = owner_and_event
    testapp = TestApp(site)
    event_url = f"/v1/events/{event_id}"
    upload = testapp.post(
        f"{event_url}/uploads/images",
        jpeg(detailed(1600, 900)),
        headers={**auth, "Content-Type": "image/jpeg"},
        status=201,
    ).json["data"]["attributes"]
    body = jsonapi_document("event", {"original-image-url": upload["url"]}, id=event_id)
    testapp.patch_json(event_url, body, headers={**auth, **JSONAPI_HEADERS}, status=200)

    for name, url in _banner_sizes(testapp, event_url, auth).items():
        path = urlsplit(url).path
        assert path.startswith("/files/events/"), (name, url)
        served = testapp.get(path, status=200)
        assert served.content_type == "image/jpeg"
        image = Image.open(BytesIO(served.body))
        (width, height), (box_width, box_height) = image.size, BOXES[name]
        # Fitted inside its box, touching it on one side.
        assert width <= box_width and (box_height is None or height <= box_height), name
        assert width == box_width or height == box_height, name
        stored = files / unquote(path.removeprefix("/files/"))
        assert stored.read_bytes() == served.body, name
