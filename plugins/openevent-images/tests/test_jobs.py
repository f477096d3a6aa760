"""Setting an image attribute to an upload: the job's sizes, formats, and what it never does."""

import socket
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from pictures import GPS_IFD, detailed, jpeg, transparent_png
from PIL import Image

from openevent.jobs import enqueue
from openevent.models import Event, Speaker
from openevent.testing import jsonapi_document, make_speaker
from openevent_images.jobs import process_image
from openevent_images.processing import Output, render

BANNER_COLUMNS = ("large-image-url", "thumbnail-image-url", "icon-image-url")
PHOTO_COLUMNS = ("thumbnail-image-url", "small-image-url", "icon-image-url")


@pytest.fixture
def patch(testapp, headers):
    """``patch(type, id, **attributes)``: the resource object the PATCH answers with."""

    def _patch(type_: str, id_: int, **attributes) -> dict:
        body = jsonapi_document(type_, attributes, id=id_)
        url = f"/v1/{type_}s/{id_}"
        return testapp.patch_json(url, body, headers=headers, status=200).json["data"]

    return _patch


@pytest.fixture
def attributes(testapp, headers):
    def _attributes(type_: str, id_: int) -> dict:
        url = f"/v1/{type_}s/{id_}"
        return testapp.get(url, headers=headers).json["data"]["attributes"]

    return _attributes


def _image(testapp, url: str) -> Image.Image:
    response = testapp.get(urlsplit(url).path, status=200)
    image = Image.open(BytesIO(response.body))
    image.load()
    return image


def _keys(storage, event) -> set[str]:
    return {stored.key for stored in storage.list(f"events/{event.id}/")}


def test_a_banner_gets_its_three_sizes_when_the_job_commits(
    testapp, event, upload, patch, attributes, run_jobs
):
    url = upload(event, jpeg(detailed(2600, 1000)))["url"]
    shown = patch("event", event.id, **{"original-image-url": url})["attributes"]
    assert [shown[name] for name in BANNER_COLUMNS] == [None, None, None]
    assert run_jobs() >= 1
    shown = attributes("event", event.id)
    assert shown["original-image-url"] == url
    sizes = {name: _image(testapp, shown[name]).size for name in BANNER_COLUMNS}
    assert sizes == {
        "large-image-url": (1300, 500),
        "thumbnail-image-url": (500, 192),
        "icon-image-url": (75, 29),
    }
    assert all(urlsplit(shown[name]).netloc == urlsplit(url).netloc for name in BANNER_COLUMNS)


def test_the_sizes_use_the_sites_quality_and_strip_metadata(
    testapp, event, upload, patch, attributes, run_jobs
):
    data = jpeg(detailed(1600, 1200), orientation=6, gps=True)
    url = upload(event, data)["url"]
    patch("event", event.id, **{"original-image-url": url})
    run_jobs()
    large_url = attributes("event", event.id)["large-image-url"]
    served = testapp.get(urlsplit(large_url).path).body
    # The conftest's images.jpeg_quality (80), and nothing else, made these bytes.
    banner = {"large": (1300, None), "thumbnail": (500, 200), "icon": (75, 30)}
    expected = render(data, banner, False, Output(jpeg_quality=80), 40_000_000)[0]
    assert served == expected.data
    image = Image.open(BytesIO(served))
    assert image.size == (1200, 1600)  # turned upright; narrower than 1300, so not scaled
    assert not image.getexif().get_ifd(GPS_IFD) and "exif" not in image.info


def test_a_transparent_banner_stays_transparent(
    testapp, event, upload, patch, attributes, run_jobs
):
    url = upload(event, transparent_png(), "image/png")["url"]
    patch("event", event.id, **{"original-image-url": url})
    run_jobs()
    large = _image(testapp, attributes("event", event.id)["large-image-url"])
    assert (large.format, large.mode, large.getpixel((0, 0))[3]) == ("PNG", "RGBA", 0)


def test_a_speaker_photo_is_cropped_to_its_squares(
    testapp, dbsession, event, upload, patch, attributes, run_jobs
):
    speaker = make_speaker(dbsession, event)
    url = upload(event, jpeg(detailed(800, 600)))["url"]
    patch("speaker", speaker.id, **{"photo-url": url})
    run_jobs()
    shown = attributes("speaker", speaker.id)
    assert [_image(testapp, shown[name]).size for name in PHOTO_COLUMNS] == [
        (500, 500),
        (50, 50),
        (35, 35),
    ]


def test_the_logo_is_replaced_by_its_resized_copy_once(
    testapp, event, upload, patch, attributes, run_jobs, storage
):
    url = upload(event, jpeg(detailed(1200, 1200)))["url"]
    patch("event", event.id, **{"logo-url": url})
    run_jobs()
    logo = attributes("event", event.id)["logo-url"]
    assert logo != url and "/original." not in logo
    assert _image(testapp, logo).size == (200, 200)
    keys = _keys(storage, event)
    # The replaced URL's change starts a job that finds a resized copy and leaves it alone.
    assert run_jobs() == 0
    assert attributes("event", event.id)["logo-url"] == logo
    assert _keys(storage, event) == keys
    assert any(key.endswith("/original.jpg") for key in keys)  # kept, for reprocessing


def test_derived_attributes_are_read_only(testapp, event, headers):
    body = jsonapi_document("event", {"large-image-url": "https://example.org/a.jpg"}, id=event.id)
    response = testapp.patch_json(f"/v1/events/{event.id}", body, headers=headers, status=422)
    assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/large-image-url"


def test_a_url_that_is_not_an_upload_is_kept_and_never_fetched(
    monkeypatch, testapp, dbsession, event, upload, patch, attributes, run_jobs, storage
):
    connections = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        connections.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    own = upload(event, jpeg(detailed(400, 300)))["url"]
    other = event.id + 1
    foreign = [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/role.jpg",
        "http://127.0.0.1:6379/banner.png",
        # Our path shape, but another event's id: not this event's upload.
        own.replace(f"/events/{event.id}/", f"/events/{other}/"),
        own + "?x=1",
    ]
    for url in foreign:
        patch("event", event.id, **{"original-image-url": url})
        run_jobs()
        shown = attributes("event", event.id)
        assert shown["original-image-url"] == url
        assert [shown[name] for name in BANNER_COLUMNS] == [None, None, None]
    assert ("169.254.169.254", 80) not in connections
    assert ("127.0.0.1", 6379) not in connections


def test_a_redelivered_job_changes_nothing(dbsession, event, upload, patch, run_jobs, storage):
    url = upload(event, jpeg(detailed(900, 600)))["url"]
    patch("event", event.id, **{"original-image-url": url})
    run_jobs()
    keys = _keys(storage, event)
    contents = {key: storage.open(key).read() for key in keys}
    dbsession.expire_all()
    before = {c: getattr(dbsession.get(Event, event.id), c) for c in ("large_image_url",)}
    # The same message once more, as Dramatiq may deliver it.
    enqueue(dbsession, process_image, "event-banner", event.id, url, None, event_id=event.id)
    dbsession.flush()
    run_jobs()
    dbsession.expire_all()
    assert {c: getattr(dbsession.get(Event, event.id), c) for c in before} == before
    assert _keys(storage, event) == keys
    assert {key: storage.open(key).read() for key in keys} == contents


def test_of_two_quick_uploads_the_last_wins_and_the_first_leaves_no_file(
    event, upload, patch, attributes, run_jobs, storage
):
    first = upload(event, jpeg(detailed(900, 600)))["url"]
    second = upload(event, jpeg(detailed(600, 900)))["url"]
    patch("event", event.id, **{"original-image-url": first})
    patch("event", event.id, **{"original-image-url": second})
    run_jobs()  # the first job runs when the row already holds the second upload
    shown = attributes("event", event.id)
    first_token, second_token = (url.split("/uploads/")[1].split("/")[0] for url in (first, second))
    assert all(f"/uploads/{second_token}/" in shown[name] for name in BANNER_COLUMNS)
    assert not storage.list(f"events/{event.id}/uploads/{first_token}/")


def test_a_replaced_image_s_files_are_deleted_after_the_new_ones_commit(
    event, upload, patch, attributes, run_jobs, storage
):
    first = upload(event, jpeg(detailed(900, 600)))["url"]
    patch("event", event.id, **{"original-image-url": first})
    run_jobs()
    first_files = _keys(storage, event)
    assert len(first_files) == 4  # the original and three sizes
    second = upload(event, jpeg(detailed(600, 900)))["url"]
    patch("event", event.id, **{"original-image-url": second})
    run_jobs()
    remaining = _keys(storage, event)
    assert not remaining & first_files
    assert len(remaining) == 4
    # Removing the image clears the sizes and deletes every file.
    patch("event", event.id, **{"original-image-url": None})
    run_jobs()
    assert [attributes("event", event.id)[name] for name in BANNER_COLUMNS] == [None] * 3
    assert _keys(storage, event) == set()


def test_an_upload_used_twice_is_kept_while_one_row_uses_it(
    dbsession, event, upload, patch, attributes, run_jobs, storage
):
    ada, grace = make_speaker(dbsession, event), make_speaker(dbsession, event, name="Grace")
    url = upload(event, jpeg(detailed(300, 300)))["url"]
    patch("speaker", ada.id, **{"photo-url": url})
    patch("speaker", grace.id, **{"photo-url": url})
    run_jobs()
    patch("speaker", ada.id, **{"photo-url": None})
    run_jobs()
    shown = attributes("speaker", grace.id)
    assert shown["photo-url"] == url
    assert storage.exists(urlsplit(url).path.removeprefix("/files/"))
    assert all(
        storage.exists(urlsplit(shown[n]).path.removeprefix("/files/")) for n in PHOTO_COLUMNS
    )


def test_a_speaker_deleted_for_good_takes_its_photos_along(
    testapp, dbsession, event, headers, upload, patch, run_jobs, storage
):
    speaker_id = make_speaker(dbsession, event).id
    patch("speaker", speaker_id, **{"photo-url": upload(event, jpeg(detailed(300, 300)))["url"]})
    run_jobs()
    assert len(_keys(storage, event)) == 4
    testapp.delete(f"/v1/speakers/{speaker_id}", headers=headers, status=204)
    run_jobs()
    assert len(_keys(storage, event)) == 4  # in the trash: kept, to be restored
    testapp.delete(f"/v1/speakers/{speaker_id}?permanent=true", headers=headers, status=204)
    run_jobs()
    assert _keys(storage, event) == set()
    dbsession.expire_all()
    assert dbsession.get(Speaker, speaker_id) is None


def test_turned_off_for_the_event_nothing_is_processed(
    testapp, event, headers, upload, patch, attributes, run_jobs
):
    url = upload(event, jpeg(detailed(300, 300)))["url"]
    off = {"type": "event-plugin", "id": "images", "attributes": {"enabled": False}}
    testapp.patch_json(f"/v1/events/{event.id}/plugins", {"data": [off]}, headers=headers)
    patch("event", event.id, **{"original-image-url": url})
    assert run_jobs() == 0
    assert attributes("event", event.id)["large-image-url"] is None
