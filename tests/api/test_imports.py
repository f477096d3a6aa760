"""Import jobs: an export in storage becomes an event through the job; the job's user (and
admins) follow it at /v1/import-jobs; a failing import leaves no event; a dead job shows failed."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from openevent.importer.jobs import run_import
from openevent.importer.media import ImportedMedia
from openevent.jobs.definitions import JobContext
from openevent.jobs.outbox import enqueue
from openevent.models import Event, ImportJob, ImportState, JobFailure, Session, Speaker
from openevent.testing import JSONAPI_HEADERS, make_user

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "open-event"


def zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{folder.name}/{path.name}")
    return buffer.getvalue()


BASE = "https://events.example.org"


@pytest.fixture
def user(dbsession):
    return make_user(dbsession, password=None)


@pytest.fixture
def headers(token_for, user):
    return {**token_for(user), **JSONAPI_HEADERS}


@pytest.fixture
def start_import(dbsession, tm, memory_storage, user):
    """Store ``content`` as an upload and enqueue its job, as POST /v1/events/import does."""

    def _start(content: bytes, strict=False, base_url=None) -> int:
        job = ImportJob(user_id=user.id, strict=strict, file_name="export.zip")
        dbsession.add(job)
        dbsession.flush()
        job.archive_key = f"imports/{job.id}/export.zip"
        memory_storage.put(job.archive_key, content, "application/zip")
        job.message_id = enqueue(dbsession, run_import, job.id, base_url)
        job_id = job.id
        tm.commit()
        tm.begin()
        return job_id

    return _start


def test_an_import_job_creates_the_event_and_shows_its_report(
    testapp, dbsession, start_import, run_jobs, headers, user, memory_storage
):
    job_id = start_import(zipped(SAMPLES / "FOSSASIASummit2017"))
    queued = testapp.get(f"/v1/import-jobs/{job_id}", headers=headers).json["data"]
    assert queued["attributes"]["state"] == "queued"
    run_jobs()
    document = testapp.get(f"/v1/import-jobs/{job_id}", headers=headers).json["data"]
    attributes = document["attributes"]
    assert attributes["state"] == "done" and attributes["progress"] == 100
    assert attributes["report"]["counts"]["sessions"] == 214
    assert attributes["error"] is None
    event_id = int(document["relationships"]["event"]["data"]["id"])
    event = dbsession.get(Event, event_id)
    assert event.name == "FOSSASIA Summit 2017"
    assert memory_storage.list("imports/") == []  # the upload is gone
    listed = testapp.get("/v1/import-jobs", headers=headers).json
    assert [item["id"] for item in listed["data"]] == [str(job_id)]


def test_a_failing_import_leaves_no_event_and_says_why(
    testapp, dbsession, start_import, run_jobs, headers, memory_storage
):
    events_before = dbsession.scalar(select(func.count()).select_from(Event))
    job_id = start_import(zipped(SAMPLES / "PyCon17"), strict=True)
    run_jobs()
    attributes = testapp.get(f"/v1/import-jobs/{job_id}", headers=headers).json["data"][
        "attributes"
    ]
    assert attributes["state"] == "failed"
    assert attributes["error"]["file"] in ("event", "sessions", "speakers")
    assert "refused: strict import" in attributes["error"]["reason"]
    assert dbsession.scalar(select(func.count()).select_from(Event)) == events_before
    assert memory_storage.list("imports/") == []


def test_a_hostile_upload_fails_with_a_reason(testapp, start_import, run_jobs, headers):
    job_id = start_import(b"PK\x03\x04 this is no zip")
    run_jobs()
    error = testapp.get(f"/v1/import-jobs/{job_id}", headers=headers).json["data"]["attributes"][
        "error"
    ]
    assert error["reason"] == "not a zip archive (or a damaged one)"


def test_a_job_that_died_shows_failed(testapp, dbsession, tm, start_import, headers):
    job_id = start_import(zipped(SAMPLES / "PyCon17"))
    job = dbsession.get(ImportJob, job_id)
    job.state = ImportState.RUNNING
    dbsession.add(
        JobFailure(
            message_id=job.message_id,
            actor_name="openevent.importer.jobs.run_import",
            queue_name="default",
            args="{}",
            message=b"{}",
            error="worker died 4 times while running this job",
            traceback="",
            attempts=4,
        )
    )
    dbsession.flush()
    attributes = testapp.get(f"/v1/import-jobs/{job_id}", headers=headers).json["data"][
        "attributes"
    ]
    assert attributes["state"] == "failed"
    assert attributes["error"] == {
        "reason": "the import job died: worker died 4 times while running this job"
    }
    # The list says so too.
    [listed] = testapp.get("/v1/import-jobs", headers=headers).json["data"]
    assert listed["attributes"]["state"] == "failed"
    assert listed["attributes"]["error"] == attributes["error"]


def with_media() -> bytes:
    """An export whose speakers' photos and sessions' slides are files of the archive."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (20, 120, 200)).save(buffer, "PNG")
    png = buffer.getvalue()
    event = {"id": 1, "name": "Media", "timezone": "UTC"}
    event |= {"starts-at": "2026-05-01T09:00:00Z", "ends-at": "2026-05-01T18:00:00Z"}
    speakers = [{"id": n, "name": f"Speaker {n}", "photo-url": f"/photos/{n}.png"} for n in (1, 2)]
    sessions = [{"id": n, "title": f"Talk {n}", "slides-url": f"slides/{n}.pdf"} for n in (1, 2)]
    members = {"event": event, "speakers": speakers, "sessions": sessions}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, json.dumps(data))
        for n in (1, 2):
            archive.writestr(f"photos/{n}.png", png)
            archive.writestr(f"slides/{n}.pdf", b"%%PDF-1.4 slides %d" % n)
    return buffer.getvalue()


class Killed(BaseException):
    """The worker process is killed: nothing of it runs after this (a test's stand-in)."""


def test_the_next_delivery_deletes_the_files_of_an_attempt_whose_worker_was_killed(
    dbsession, tm, registry, start_import, run_jobs, memory_storage, monkeypatch
):
    job_id = start_import(with_media(), base_url=BASE)
    put = memory_storage.put

    def put_then_die(key, *args, **kwargs):
        # Killed as the fourth file is recorded: three are stored, the fourth not yet.
        journal = f"imports/{job_id}/stored/"
        if key.startswith(journal) and len(memory_storage.list(journal)) == 3:
            raise Killed
        return put(key, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(memory_storage, "put", put_then_die)
        # A dead process deletes nothing.
        patch.setattr(ImportedMedia, "discard", lambda media: None)
        with pytest.raises(Killed):
            run_import(JobContext(dbsession, registry, "attempt-1"), job_id, BASE)
    tm.abort()  # the database rolls back the dead worker's transaction
    tm.begin()
    orphans = {stored.key for stored in memory_storage.list("events/")}
    assert len(orphans) == 3  # the images plugin's photos and the importer's slides
    assert dbsession.get(ImportJob, job_id).state == ImportState.RUNNING

    run_jobs()  # the broker delivers the message again
    job = dbsession.get(ImportJob, job_id)
    assert job.state == ImportState.DONE
    event_id = job.event_id
    urls = dbsession.scalars(select(Speaker.photo_url).filter_by(event_id=event_id)).all()
    urls += dbsession.scalars(select(Session.slides_url).filter_by(event_id=event_id)).all()
    assert len(urls) == 4 and None not in urls
    kept = {stored.key for stored in memory_storage.list("events/")}
    assert not kept & orphans
    # The images plugin's sizes of the photos are derived from the originals the event names.
    originals = {key for key in kept if any(url.endswith("/files/" + key) for url in urls)}
    assert len(originals) == 4
    assert {key.split("/")[1] for key in kept} == {str(event_id)}
    assert memory_storage.list("imports/") == []  # the upload and the journal are gone


def test_an_imports_journal_records_each_file_as_it_is_stored_and_goes_with_the_import(
    dbsession, registry, start_import, run_jobs, memory_storage, monkeypatch
):
    job_id = start_import(with_media(), base_url=BASE)
    put, seen = memory_storage.put, []

    def put_and_check(key, *args, **kwargs):
        stored = put(key, *args, **kwargs)
        journal = memory_storage.list(f"imports/{job_id}/stored/")
        recorded = {memory_storage.open(entry.key).read().decode() for entry in journal}
        seen.append((key, recorded))
        return stored

    monkeypatch.setattr(memory_storage, "put", put_and_check)
    run_jobs()
    assert dbsession.get(ImportJob, job_id).state == ImportState.DONE
    slides = [(key, recorded) for key, recorded in seen if key.endswith(".pdf")]
    assert len(slides) == 2
    # The importer's own files are recorded before they are written.
    assert all(key in recorded for key, recorded in slides)
    # The images plugin's originals as soon as it has stored them.
    originals = {key for key, _ in seen if key.endswith("/original.png")}
    assert len(originals) == 2
    assert set().union(*(recorded for _, recorded in seen)) >= originals
    assert memory_storage.list(f"imports/{job_id}/") == []


def test_only_the_importer_and_admins_see_an_import(testapp, dbsession, start_import, token_for):
    job_id = start_import(b"x")
    testapp.get(f"/v1/import-jobs/{job_id}", status=401)
    other = make_user(dbsession, password=None)
    testapp.get(f"/v1/import-jobs/{job_id}", headers=token_for(other), status=404)
    assert testapp.get("/v1/import-jobs", headers=token_for(other)).json["data"] == []
    admin = make_user(dbsession, password=None, is_admin=True)
    testapp.get(f"/v1/import-jobs/{job_id}", headers=token_for(admin), status=200)
    for bad in ("abc", "0x1", "99999999999", "-1"):
        testapp.get(f"/v1/import-jobs/{bad}", headers=token_for(admin), status=404)


def test_posting_an_export_starts_an_import_the_user_owns(
    testapp, dbsession, run_jobs, headers, user, memory_storage
):
    upload = ("file", "pycon.zip", zipped(SAMPLES / "PyCon17"))
    response = testapp.post("/v1/events/import", upload_files=[upload], headers=_auth(headers))
    assert response.status_int == 202
    job = response.json["data"]
    assert job["type"] == "import-job" and job["attributes"]["state"] == "queued"
    assert job["attributes"]["file-name"] == "pycon.zip"
    assert response.headers["Location"].endswith(f"/v1/import-jobs/{job['id']}")
    run_jobs()
    done = testapp.get(f"/v1/import-jobs/{job['id']}", headers=headers).json["data"]
    assert done["attributes"]["state"] == "done"
    event_id = int(done["relationships"]["event"]["data"]["id"])
    roles = testapp.get(f"/v1/events/{event_id}", headers=headers).json["data"]
    assert roles["attributes"]["name"] == "PyCon 2017"
    assert memory_storage.list("imports/") == []


def test_a_zip_body_and_strict_in_the_query_string(testapp, headers, run_jobs):
    body = zipped(SAMPLES / "PyCon17")
    response = testapp.post(
        "/v1/events/import?strict=true",
        body,
        headers={**_auth(headers), "Content-Type": "application/zip"},
        status=202,
    )
    assert response.json["data"]["attributes"]["strict"] is True
    run_jobs()
    job_id = response.json["data"]["id"]
    failed = testapp.get(f"/v1/import-jobs/{job_id}", headers=headers).json["data"]
    assert failed["attributes"]["state"] == "failed"


def _bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("event", b"{}")
        archive.writestr("sessions", bytes(20 * 1024 * 1024))
    return buffer.getvalue()


def _traversal() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../etc/event", b"{}")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not a zip", "not a zip archive"),
        (_bomb(), "zip bomb"),
        (_traversal(), "'..' segment"),
    ],
    ids=["not-a-zip", "bomb", "traversal"],
)
def test_hostile_uploads_are_refused_at_once_and_nothing_is_kept(
    testapp, dbsession, headers, memory_storage, content, reason
):
    before = dbsession.scalar(select(func.count()).select_from(ImportJob))
    response = testapp.post(
        "/v1/events/import",
        upload_files=[("file", "x.zip", content)],
        headers=_auth(headers),
        status=422,
    )
    assert reason in response.json["errors"][0]["detail"]
    assert dbsession.scalar(select(func.count()).select_from(ImportJob)) == before
    assert memory_storage.list("imports/") == []


def test_bad_requests_to_the_import_route(testapp, headers, registry):
    auth = _auth(headers)
    testapp.post("/v1/events/import", b"x", headers={"Content-Type": "application/zip"}, status=401)
    testapp.post(
        "/v1/events/import", b"{}", headers={**auth, "Content-Type": "application/json"}, status=415
    )
    testapp.post("/v1/events/import", {"strict": "true"}, headers=auth, status=415)
    no_file = testapp.post(
        "/v1/events/import",
        {"strict": "true"},
        upload_files=[("other", "x.zip", b"PK")],
        headers=auth,
        status=422,
    )
    assert "form field 'file'" in no_file.json["errors"][0]["detail"]
    testapp.post(
        "/v1/events/import?strict=maybe",
        zipped(SAMPLES / "PyCon17"),
        headers={**auth, "Content-Type": "application/zip"},
        status=400,
    )
    limit = registry.settings["openevent.import.max_upload_bytes"]
    registry.settings["openevent.import.max_upload_bytes"] = 1000
    try:
        testapp.post(
            "/v1/events/import",
            zipped(SAMPLES / "PyCon17"),
            headers={**auth, "Content-Type": "application/zip"},
            status=413,
        )
    finally:
        registry.settings["openevent.import.max_upload_bytes"] = limit


def _auth(headers: dict) -> dict:
    return {"Authorization": headers["Authorization"]}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _run(testapp, headers, run_jobs, body: bytes, strict: bool) -> dict:
    response = testapp.post(
        f"/v1/events/import?strict={str(strict).lower()}",
        body,
        headers={**_auth(headers), "Content-Type": "application/zip"},
        status=202,
    )
    run_jobs()
    return testapp.get(f"/v1/import-jobs/{response.json['data']['id']}", headers=headers).json[
        "data"
    ]


def test_an_imported_file_gets_a_url_on_the_site_the_import_was_posted_to(
    testapp, dbsession, headers, run_jobs, memory_storage, export_with_slides
):
    body = _zip(export_with_slides("2026-05-01T11:00:00+00:00"))
    job = _run(testapp, headers, run_jobs, body, False)
    assert job["attributes"]["report"]["media"] == {"files": 1, "bytes": 15}
    event_id = int(job["relationships"]["event"]["data"]["id"])
    session = dbsession.scalars(select(Session).filter_by(event_id=event_id)).one()
    [stored] = memory_storage.list(f"events/{event_id}/")
    assert session.slides_url == f"http://example.com/files/{stored.key}"
    assert testapp.get(f"/files/{stored.key}").body == b"%PDF-1.4 slides"


def test_a_failing_import_job_leaves_no_file_in_storage(
    testapp, headers, run_jobs, memory_storage, export_with_slides
):
    # The slides are stored as the session is read; its times then fail the strict import.
    body = _zip(export_with_slides("2026-05-01T09:00:00+00:00"))
    job = _run(testapp, headers, run_jobs, body, True)
    assert job["attributes"]["state"] == "failed"
    assert "ends before it starts" in job["attributes"]["error"]["reason"]
    assert memory_storage.list("") == []
