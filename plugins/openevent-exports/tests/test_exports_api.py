"""Exports on demand, through the API and the job, as organizers use them."""

import io
import json
import os
import tempfile
import zipfile
from datetime import timedelta

import pytest

from openevent.db import utcnow
from openevent.models import JobFailure, Role
from openevent.testing import JSONAPI_HEADERS, jsonapi_document, make_user
from openevent_exports import formats
from openevent_exports.exporting import progress_key
from openevent_exports.models import ExportJob


def _start(testapp, event, headers, format_name="open-event", options=None, status=202):
    attributes = {"format": format_name}
    if options is not None:
        attributes["options"] = options
    body = jsonapi_document("export-job", attributes)
    return testapp.post_json(f"/v1/events/{event.id}/exports", body, headers=headers, status=status)


def test_an_export_runs_and_is_downloaded_through_a_signed_link(
    testapp, event, program, headers, run_jobs, memory_storage
):
    document = _start(testapp, event, headers).json
    job = document["data"]
    assert job["type"] == "export-job"
    assert job["attributes"]["state"] == "queued" and job["attributes"]["progress"] == 0
    assert run_jobs() == 1
    url = f"/v1/export-jobs/{job['id']}"
    attributes = testapp.get(url, headers=headers).json["data"]["attributes"]
    assert attributes["state"] == "done" and attributes["progress"] == 100
    assert attributes["error"] is None and attributes["size"] > 0
    assert attributes["started-at"] and attributes["finished-at"]
    link = attributes["download-url"]
    assert "signature=" in link and "expires=" in link
    archive = zipfile.ZipFile(io.BytesIO(testapp.get(link).body))
    assert "sessions" in archive.namelist()
    listed = testapp.get(f"/v1/events/{event.id}/exports", headers=headers).json["data"]
    assert [item["id"] for item in listed] == [job["id"]]


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"format": "pdf"}, "/data/attributes/format"),
        ({}, "/data/attributes/format"),
        ({"format": 3}, "/data/attributes/format"),
        ({"format": "ical", "options": []}, "/data/attributes/options"),
        (
            {"format": "frab-xml", "options": {"day-change-hour": 30}},
            "/data/attributes/options/day-change-hour",
        ),
        ({"format": "ical", "options": {"x": 1}}, "/data/attributes/options/x"),
        ({"format": "ical", "state": "done"}, "/data/attributes/state"),
    ],
)
def test_bad_requests_are_422_and_write_nothing(
    testapp, dbsession, event, headers, run_jobs, attributes, pointer
):
    body = jsonapi_document("export-job", attributes)
    response = testapp.post_json(
        f"/v1/events/{event.id}/exports", body, headers=headers, status=422
    )
    assert pointer in [e["source"]["pointer"] for e in response.json["errors"]]
    assert run_jobs() == 0
    assert dbsession.query(ExportJob).count() == 0


def test_malformed_bodies_are_4xx(testapp, event, headers):
    url = f"/v1/events/{event.id}/exports"
    testapp.post(url, b"{not json", headers=headers, status=400)
    testapp.post_json(url, {"data": []}, headers=headers, status=400)
    testapp.post_json(
        url, jsonapi_document("session", {"format": "ical"}), headers=headers, status=409
    )
    plain = {k: v for k, v in headers.items() if k != "Content-Type"}
    testapp.post(url, b"{}", headers={**plain, "Content-Type": "text/plain"}, status=415)


def test_only_the_team_reaches_the_routes(
    testapp, dbsession, event, headers, token_for, team_member, run_jobs
):
    job_id = _start(testapp, event, headers, "ical").json["data"]["id"]
    run_jobs()
    body = jsonapi_document("export-job", {"format": "ical"})
    outsider = {**token_for(make_user(dbsession, password=None)), **JSONAPI_HEADERS}
    for url in (f"/v1/events/{event.id}/exports", f"/v1/export-jobs/{job_id}"):
        testapp.get(url, status=404)  # as for a draft: nothing to see for outsiders
        testapp.get(url, headers=outsider, status=404)
    testapp.post_json(f"/v1/events/{event.id}/exports", body, headers=JSONAPI_HEADERS, status=401)
    testapp.post_json(f"/v1/events/{event.id}/exports", body, headers=outsider, status=404)
    testapp.post_json("/v1/events/999999/exports", body, headers=headers, status=404)
    testapp.get("/v1/export-jobs/999999", headers=headers, status=404)
    coorganizer = {**token_for(team_member(Role.COORGANIZER)), **JSONAPI_HEADERS}
    testapp.get(f"/v1/export-jobs/{job_id}", headers=coorganizer, status=200)
    _start(testapp, event, coorganizer, "csv")


def test_a_failing_export_is_failed_with_its_error_and_leaves_no_temporary_file(
    testapp, event, program, headers, run_jobs, monkeypatch, memory_storage
):
    def explode(program, stream, writing):
        stream.write(b"half a file")
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(
        formats.FORMATS,
        "ical",
        formats.FORMATS["ical"].__class__(**{**formats.FORMATS["ical"].__dict__, "write": explode}),
    )
    before = set(os.listdir(tempfile.gettempdir()))
    job_id = _start(testapp, event, headers, "ical").json["data"]["id"]
    run_jobs()
    attributes = testapp.get(f"/v1/export-jobs/{job_id}", headers=headers).json["data"][
        "attributes"
    ]
    assert attributes["state"] == "failed"
    assert attributes["error"] == "RuntimeError: disk on fire"
    assert attributes["download-url"] is None
    leftovers = set(os.listdir(tempfile.gettempdir())) - before
    assert not [name for name in leftovers if name.startswith("openevent-export-")]
    assert memory_storage.list("exports/") == []


def _beat(storage, job, at, progress=40):
    report = {"progress": progress, "heartbeat": at.isoformat()}
    storage.put(progress_key(job.event_id, job.id), json.dumps(report).encode(), "application/json")


def _attributes(testapp, job_id, headers):
    return testapp.get(f"/v1/export-jobs/{job_id}", headers=headers).json["data"]["attributes"]


def test_a_job_that_died_reads_as_failed(testapp, dbsession, event, headers, memory_storage):
    job_id = int(_start(testapp, event, headers, "ical").json["data"]["id"])
    job = dbsession.get(ExportJob, job_id)
    job.state = "running"
    dbsession.flush()
    _beat(memory_storage, job, utcnow())
    attributes = _attributes(testapp, job_id, headers)
    assert (attributes["state"], attributes["progress"]) == ("running", 40)
    # Its worker stopped beating long ago.
    _beat(memory_storage, job, utcnow() - timedelta(hours=2))
    attributes = _attributes(testapp, job_id, headers)
    assert attributes["state"] == "failed" and "no progress" in attributes["error"]
    # Beating, but its message recorded as failed for good (a worker died on every delivery).
    _beat(memory_storage, job, utcnow())
    dbsession.add(
        JobFailure(
            message_id=job.message_id,
            actor_name="openevent_exports.jobs.build_export",
            queue_name="exports",
            args="[]",
            message=b"",
            error="worker died 3 times while running this job",
            traceback="",
            attempts=3,
        )
    )
    dbsession.flush()
    attributes = _attributes(testapp, job_id, headers)
    assert attributes["state"] == "failed" and "worker died 3 times" in attributes["error"]


def test_only_the_last_exports_are_kept(
    testapp, event, headers, run_jobs, memory_storage, registry, monkeypatch
):
    from openevent_exports.settings import SETTINGS_KEY

    monkeypatch.setitem(registry, SETTINGS_KEY, registry[SETTINGS_KEY].__class__(keep=2))
    ids = []
    for _ in range(4):
        ids.append(_start(testapp, event, headers, "ical").json["data"]["id"])
        run_jobs()
    listed = testapp.get(f"/v1/events/{event.id}/exports", headers=headers).json["data"]
    assert [item["id"] for item in listed] == ids[:1:-1]  # the newest two, newest first
    keys = [stored.key for stored in memory_storage.list("exports/")]
    assert len(keys) == 2 and all(f"/{ids[2]}/" in k or f"/{ids[3]}/" in k for k in keys)
    testapp.get(f"/v1/export-jobs/{ids[0]}", headers=headers, status=404)


def test_every_route_answers_404_for_an_event_the_plugin_is_off_for(
    testapp, event, program, headers, run_jobs
):
    job_id = _start(testapp, event, headers, "ical").json["data"]["id"]
    run_jobs()
    off = {"type": "event-plugin", "id": "exports", "attributes": {"enabled": False}}
    testapp.patch_json(f"/v1/events/{event.id}/plugins", {"data": [off]}, headers=headers)
    for url in (
        f"/v1/events/{event.id}/exports",
        f"/v1/events/{event.id}/export-jobs",
        f"/v1/export-jobs/{job_id}",
        f"/v1/events/{event.id}/schedule.ics",
        f"/v1/events/{event.id}/schedule.json",
    ):
        testapp.get(url, headers=headers, status=404)
    _start(testapp, event, headers, "ical", status=404)


def test_the_standard_collection_lists_the_same_exports(testapp, event, headers, token_for):
    job_id = _start(testapp, event, headers, "csv").json["data"]["id"]
    listed = testapp.get(f"/v1/events/{event.id}/export-jobs", headers=headers).json["data"]
    assert [item["id"] for item in listed] == [job_id]
    testapp.get(f"/v1/events/{event.id}/export-jobs", status=404)


def test_pages_of_the_standard_collection_count_every_export(testapp, event, headers):
    # Export jobs are listed as ORM objects (orm_rows): their total comes with the page too.
    ids = [_start(testapp, event, headers, "csv").json["data"]["id"] for _ in range(3)]
    listing = f"/v1/events/{event.id}/export-jobs?page[size]=2"
    pages = [
        testapp.get(f"{listing}&page[number]={number}", headers=headers).json
        for number in (1, 2, 3)
    ]
    assert [len(page["data"]) for page in pages] == [2, 1, 0]
    assert [page["meta"]["count"] for page in pages] == [3, 3, 3]
    assert sorted(item["id"] for page in pages for item in page["data"]) == sorted(ids)
