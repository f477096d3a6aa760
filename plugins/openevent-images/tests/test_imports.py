"""Images in an imported export: stored as uploads are, then resized by the same jobs."""

import io
import json
import zipfile
from urllib.parse import urlsplit

import pytest
from pictures import detailed, encode, transparent_png
from sqlalchemy import select

from openevent.models import Event, OutboxMessage, Speaker

EVENT = {
    "id": 7,
    "name": "Imported",
    "starts-at": "2026-05-01T09:00:00+02:00",
    "ends-at": "2026-05-02T18:00:00+02:00",
    "timezone": "Europe/Berlin",
    "logo-url": "images/event/7-logo-url-logo.png",
}


def export_zip(speakers: list[dict], media: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("event", json.dumps(EVENT))
        archive.writestr("speakers", json.dumps(speakers))
        for member, data in media.items():
            archive.writestr(member, data)
    return buffer.getvalue()


def imported(testapp, auth, run_jobs, body: bytes):
    """The new event and the job's report, once the import's and the images' jobs ran."""
    response = testapp.post(
        "/v1/events/import", upload_files=[("file", "export.zip", body)], headers=auth
    )
    run_jobs()  # the import, which enqueues the images' processing
    run_jobs()
    job = testapp.get(f"/v1/import-jobs/{response.json['data']['id']}", headers=auth).json["data"]
    assert job["attributes"]["state"] == "done", job["attributes"]["error"]
    return int(job["relationships"]["event"]["data"]["id"]), job["attributes"]["report"]


def test_an_imported_photo_is_stored_as_an_upload_and_resized(
    testapp, dbsession, auth, run_jobs, storage
):
    photo = encode(detailed(800, 600), "PNG")
    body = export_zip(
        [{"id": 1, "name": "Ada", "photo-url": "/images/speakers/ada.png"}],
        {"images/speakers/ada.png": photo, "images/event/7-logo-url-logo.png": transparent_png()},
    )
    event_id, report = imported(testapp, auth, run_jobs, body)
    speaker = dbsession.query(Speaker).filter_by(event_id=event_id).one()
    # The URL an upload gets: this site's, the storage's path of the original.
    assert speaker.photo_url.startswith(f"http://example.com/files/events/{event_id}/uploads/")
    original = urlsplit(speaker.photo_url).path.removeprefix("/files/")
    assert original.endswith("/original.png")
    with storage.open(original) as stored:
        assert stored.read() == photo
    # The job made the sizes, as for an upload.
    sizes = (speaker.thumbnail_image_url, speaker.small_image_url, speaker.icon_image_url)
    assert all(url and "/uploads/" in url for url in sizes)
    keys = {stored.key for stored in storage.list(f"events/{event_id}/")}
    assert {urlsplit(url).path.removeprefix("/files/") for url in sizes} <= keys
    # The event's logo too: its resized copy replaces the original's URL.
    logo_url = dbsession.get(Event, event_id).logo_url
    assert "/uploads/" in logo_url and not logo_url.endswith("/original.png")
    assert report["media"]["files"] == 2


def test_a_file_that_is_not_an_image_is_reported_and_not_stored(
    testapp, dbsession, auth, run_jobs, storage
):
    body = export_zip(
        [{"id": 3, "name": "Bob", "photo-url": "images/speakers/bob.png"}],
        {
            "images/speakers/bob.png": b"<html><script>alert(1)</script></html>",
            "images/event/7-logo-url-logo.png": transparent_png(),
        },
    )
    event_id, report = imported(testapp, auth, run_jobs, body)
    assert dbsession.query(Speaker).filter_by(event_id=event_id).one().photo_url is None
    [finding] = [f for f in report["findings"] if f["file"] == "speakers"]
    assert finding["kind"] == "skipped" and finding["id"] == "3"
    assert finding["reason"].startswith("photo-url: images/speakers/bob.png: the file is not a")
    assert not any(s.key.endswith(".html") or "bob" in s.key for s in storage.list(""))
    assert report["media"]["files"] == 1


@pytest.mark.usefixtures("jpeg_and_png_only")
def test_an_image_in_a_format_the_site_does_not_take_is_reported_and_not_stored(
    testapp, dbsession, auth, run_jobs, storage
):
    body = export_zip(
        [{"id": 4, "name": "Cy", "photo-url": "images/speakers/cy.gif"}],
        {
            "images/speakers/cy.gif": encode(detailed(80, 60), "GIF"),
            "images/event/7-logo-url-logo.png": transparent_png(),
        },
    )
    event_id, report = imported(testapp, auth, run_jobs, body)
    assert dbsession.query(Speaker).filter_by(event_id=event_id).one().photo_url is None
    [finding] = [f for f in report["findings"] if f["file"] == "speakers"]
    assert finding["kind"] == "skipped" and finding["id"] == "4"
    assert finding["reason"].startswith(
        "photo-url: images/speakers/cy.gif: the file is not a JPEG or PNG image but a GIF one;"
    )
    assert not any(s.key.endswith(".gif") for s in storage.list(""))
    # The PNG logo is taken.
    assert "/uploads/" in dbsession.get(Event, event_id).logo_url
    assert report["media"]["files"] == 1


def test_a_photo_from_elsewhere_starts_no_processing(testapp, dbsession, auth, run_jobs):
    # Thousands of speakers with photos on Open Event's servers: no job for any of them.
    body = export_zip(
        [{"id": 1, "name": "Ada", "photo-url": "https://cdn.example.org/ada.jpg"}],
        {"images/event/7-logo-url-logo.png": transparent_png()},
    )
    event_id, _ = imported(testapp, auth, run_jobs, body)
    speaker = dbsession.query(Speaker).filter_by(event_id=event_id).one()
    assert speaker.photo_url == "https://cdn.example.org/ada.jpg"
    processing = select(OutboxMessage.message).where(
        OutboxMessage.event_id == event_id,
        OutboxMessage.actor_name == "openevent_images.jobs.process_image",
    )
    messages = dbsession.scalars(processing).all()
    # The event's logo, which the archive holds, is processed; the speaker's photo is not.
    assert any(b'"event-logo"' in message for message in messages)
    assert not any(b'"speaker-photo"' in message for message in messages)
