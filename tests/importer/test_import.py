"""Importing the samples and messy exports into a new event: rows, links, repairs, all or
nothing."""

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openevent.importer import ImportFailed, import_archive
from openevent.models import Event, EventRole, EventState, Role, Session, Speaker, Track
from openevent.testing import make_user

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "open-event"


@pytest.fixture
def owner(dbsession):
    return make_user(dbsession, password=None)


def count(dbsession, model, event):
    return dbsession.scalar(select(func.count()).select_from(model).filter_by(event_id=event.id))


def test_fossasia_imports_with_its_program(dbsession, owner):
    event, report = import_archive(dbsession, SAMPLES / "FOSSASIASummit2017", owner_id=owner.id)
    assert event.name == "FOSSASIA Summit 2017"
    assert event.timezone == "Asia/Singapore"
    assert event.state == EventState.DRAFT  # the new team publishes it when it is ready
    assert dbsession.scalars(select(EventRole.role).filter_by(event_id=event.id)).all() == [
        Role.OWNER
    ]
    assert count(dbsession, Session, event) == report.counts["sessions"] == 214
    assert count(dbsession, Speaker, event) == report.counts["speakers"] == 207
    assert count(dbsession, Track, event) == 22
    source = json.loads((SAMPLES / "FOSSASIASummit2017" / "sessions").read_text())
    first = source[0]
    session = dbsession.scalars(
        select(Session).filter_by(event_id=event.id, title=first["title"].strip())
    ).one()
    assert session.starts_at.isoformat() == "2017-03-17T06:25:00+00:00"  # 14:25+08:00
    assert sorted(s.name for s in session.speakers) == sorted(
        p["name"].strip() for p in first["speakers"]
    )
    assert session.track.name == first["track"]["name"]
    assert session.microlocation.name == first["microlocation"]["name"]
    # Every session's values landed on its own row (bulk inserts group rows by their keys).
    stored = {
        (s.title, s.starts_at, s.microlocation.name if s.microlocation else None, s.level)
        for s in dbsession.scalars(select(Session).filter_by(event_id=event.id))
    }
    expected = {
        (
            item["title"].strip(),
            datetime.fromisoformat(item["starts-at"]) if item["starts-at"] else None,
            item["microlocation"]["name"].strip() if item.get("microlocation") else None,
            item["level"].strip() or None,
        )
        for item in source
    }
    assert stored == expected
    speakers = {(s.name, s.organisation or "", s.website) for s in event_speakers(dbsession, event)}
    assert speakers == {
        (p["name"].strip(), p["organisation"].strip(), p["website"].strip() or None)
        for p in json.loads((SAMPLES / "FOSSASIASummit2017" / "speakers").read_text())
    }


def event_speakers(dbsession, event):
    return dbsession.scalars(select(Speaker).filter_by(event_id=event.id)).all()


def test_an_unknown_timezone_fails_and_leaves_nothing(dbsession, owner, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    event = json.loads((SAMPLES / "PyCon17" / "event").read_text())
    (folder / "event").write_text(json.dumps({**event, "timezone": "Mars/Base"}))
    before = dbsession.scalar(select(func.count()).select_from(Event))
    with pytest.raises(ImportFailed, match="unknown timezone 'Mars/Base'") as failed:
        import_archive(dbsession, folder, owner_id=owner.id)
    assert (failed.value.file, failed.value.key) == ("event", "timezone")
    assert dbsession.scalar(select(func.count()).select_from(Event)) == before


def test_mapped_timezones_and_naive_times_are_reported(dbsession, owner, tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "event").write_text(
        json.dumps(
            {
                "id": 4,
                "name": "Luau",
                "timezone": "Hawaii-Aleutian",
                "starts-at": "2017-05-17T10:00:00",
                "ends-at": "2017-05-18T18:00:00",
            }
        )
    )
    (folder / "sessions").write_text(
        json.dumps(
            [
                {
                    "id": 1,
                    "title": "Hi",
                    "start_time": "2017-05-17T10:00:00",
                    "end_time": "2017-05-17T11:00:00",
                    "slides-url": "not a url",
                }
            ]
        )
    )
    event, report = import_archive(dbsession, folder, owner_id=owner.id)
    assert event.timezone == "America/Adak"
    assert event.starts_at.isoformat() == "2017-05-17T19:00:00+00:00"  # HDT is UTC-9
    findings = [(f.kind, f.file, f.reason) for f in report.findings]
    assert ("repaired", "event", "timezone 'Hawaii-Aleutian' read as America/Adak") in findings
    assert ("warning", "sessions", "2 times without a UTC offset read in America/Adak") in findings
    assert ("warning", "event", "2 times without a UTC offset read in America/Adak") in findings


def test_imported_rows_reach_plugins_as_creations(dbsession, tm, owner, tmp_path, captured_changes):
    from openevent.changes import EventCreated, SessionCreated, SpeakerCreated, TrackCreated

    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "event").write_text(
        json.dumps(
            {
                "id": 1,
                "name": "Camp",
                "timezone": "Europe/Berlin",
                "starts-at": "2030-05-01T09:00:00+02:00",
                "ends-at": "2030-05-02T18:00:00+02:00",
            }
        )
    )
    (folder / "tracks").write_text(json.dumps([{"id": 3, "name": "Web"}]))
    (folder / "speakers").write_text(json.dumps([{"id": 7, "name": "Ada"}]))
    (folder / "sessions").write_text(
        json.dumps([{"id": 5, "title": "Hello", "track": {"id": 3}, "speakers": [{"id": 7}]}])
    )
    event, _ = import_archive(dbsession, folder, owner_id=owner.id)
    event_id = event.id
    tm.commit()
    tm.begin()
    by_type = {type(change): change for change in captured_changes}
    assert by_type[EventCreated].id == event_id
    track, speaker, session = (
        by_type[TrackCreated],
        by_type[SpeakerCreated],
        by_type[SessionCreated],
    )
    assert {track.event_id, speaker.event_id, session.event_id} == {event_id}
    assert session.changes["title"] == (None, "Hello")
    assert session.changes["track_id"] == (None, track.id)
    assert session.changes["speakers"] == (None, (speaker.id,))
    assert speaker.changes["sessions"] == (None, (session.id,))


def test_rows_without_a_key_they_cannot_be_without_are_skipped_and_reported(
    dbsession, owner, tmp_path
):
    folder = tmp_path / "export"
    folder.mkdir()
    files = {
        "event": {
            "id": 1,
            "name": "Gaps",
            "timezone": "UTC",
            "starts-at": "2017-05-17T10:00:00Z",
            "ends-at": "2017-05-18T18:00:00Z",
            "social-links": [{"id": 7}, {"id": 8, "name": "Web", "link": "https://example.org"}],
        },
        "tracks": [{"id": 3}, {"id": 4, "name": "Web"}],
        "speakers": [{"id": 5, "email": "ada@example.org"}],
        "sessions": [{"id": 6, "title": "Talk", "track": {"id": 3}, "speakers": [{"id": 5}]}],
    }
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content))
    event, report = import_archive(dbsession, folder, owner_id=owner.id)
    skipped = {(f.file, str(f.id), f.reason) for f in report.findings if f.kind == "skipped"}
    assert ("tracks", "3", "no valid name: not imported") in skipped
    assert ("speakers", "5", "no valid name: not imported") in skipped
    assert ("event/social-links", "7", "no valid name or link: not imported") in skipped
    assert report.counts["tracks"] == 1 and report.counts["social-links"] == 1
    assert count(dbsession, Speaker, event) == 0
    [session] = dbsession.scalars(select(Session).filter_by(event_id=event.id)).all()
    assert session.track_id is None
