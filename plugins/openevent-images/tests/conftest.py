"""Fixtures of the images plugin's tests, on top of openevent.testing's."""

import pytest

from openevent.models import EventState
from openevent.testing import JSONAPI_HEADERS, make_event, make_user
from openevent_images.settings import SETTINGS_KEY, read_settings

# Small enough to test both limits cheaply, larger than the app's 1 MiB JSON limit.
MAX_BYTES = 3 * 1024 * 1024


@pytest.fixture(scope="session")
def app_settings(app_settings):
    return {
        **app_settings,
        "images.max_bytes": str(MAX_BYTES),
        "images.max_pixels": "40000000",
        "images.jpeg_quality": "80",
        # Speaker photos are cropped to their boxes; banners and logos fit inside theirs.
        "images.speaker_photo.crop": "cover",
    }


@pytest.fixture(autouse=True)
def storage(memory_storage):
    """Every test starts with an empty storage of its own."""
    return memory_storage


@pytest.fixture
def jpeg_and_png_only(registry, monkeypatch):
    """The site takes JPEG and PNG images only (``images.formats = jpeg png``)."""
    settings = read_settings({**registry.settings, "images.formats": "jpeg png"})
    monkeypatch.setitem(registry, SETTINGS_KEY, settings)


@pytest.fixture
def owner(dbsession):
    return make_user(dbsession, password=None)


@pytest.fixture
def auth(token_for, owner):
    return token_for(owner)


@pytest.fixture
def headers(auth):
    """JSON:API request headers with the event owner's token."""
    return {**auth, **JSONAPI_HEADERS}


@pytest.fixture
def event(dbsession, owner):
    return make_event(dbsession, owner=owner, state=EventState.PUBLISHED)


@pytest.fixture
def upload(testapp, auth):
    """``upload(event, data, content_type="image/jpeg")``: the upload's answer (201)."""

    def _upload(event, data: bytes, content_type: str = "image/jpeg") -> dict:
        response = testapp.post(
            f"/v1/events/{event.id}/uploads/images",
            data,
            headers={**auth, "Content-Type": content_type},
            status=201,
        )
        return response.json["data"]["attributes"]

    return _upload
