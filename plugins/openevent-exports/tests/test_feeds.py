"""The public schedule feeds: fresh after every committed change, coalesced, cacheable."""

import icalendar
import pytest
from sqlalchemy import select

from openevent.models import Event, EventState, Microlocation, Session, Speaker, Track
from openevent.testing import jsonapi_document
from openevent_exports.feeds import FEEDS
from openevent_exports.models import FeedState

FEED_NAMES = list(FEEDS)


def _rename_session(testapp, headers, session_id, title):
    body = jsonapi_document("session", {"title": title}, id=session_id)
    testapp.patch_json(f"/v1/sessions/{session_id}", body, headers=headers, status=200)


@pytest.mark.parametrize("name", FEED_NAMES)
def test_each_feed_is_public_for_a_published_event(testapp, event, program, name):
    response = testapp.get(f"/v1/events/{event.id}/{name}", status=200)
    assert b"Opening keynote" in response.body
    assert b"Rejected talk" not in response.body and b"example.org" not in response.body
    assert response.etag and response.last_modified
    assert response.headers["Cache-Control"] == "no-cache"


def test_content_types(testapp, event, program):
    types = {name: testapp.get(f"/v1/events/{event.id}/{name}").content_type for name in FEEDS}
    assert types == {
        "schedule.ics": "text/calendar",
        "schedule.xcal": "application/calendar+xml",
        "schedule.xml": "application/xml",
        "schedule.json": "application/json",
    }


def test_a_committed_change_is_in_the_feeds_after_the_rebuild(
    testapp, event, program, headers, run_jobs, memory_storage
):
    url = f"/v1/events/{event.id}/schedule.ics"
    first = testapp.get(url)
    keynote = program["sessions"][0]
    _rename_session(testapp, headers, keynote.id, "Keynote, moved")
    assert run_jobs() == 1
    second = testapp.get(url)
    assert second.etag != first.etag
    summaries = [
        str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(second.body).walk("VEVENT")
    ]
    assert "Keynote, moved" in summaries
    # Served from storage now, as the rebuild wrote it.
    assert any(s.key.endswith("/schedule.ics") for s in memory_storage.list("feeds/"))


def test_conditional_requests_get_304(testapp, event, program, headers, run_jobs):
    _rename_session(testapp, headers, program["sessions"][0].id, "Keynote")
    run_jobs()
    url = f"/v1/events/{event.id}/schedule.json"
    response = testapp.get(url)
    testapp.get(url, headers={"If-None-Match": f'"{response.etag}"'}, status=304)
    testapp.get(url, headers={"If-Modified-Since": response.headers["Last-Modified"]}, status=304)
    testapp.get(url, headers={"If-None-Match": '"other"'}, status=200)


@pytest.mark.parametrize(
    "change",
    ["event", "session", "speaker", "track", "microlocation"],
)
def test_every_part_of_the_program_triggers_a_rebuild(
    dbsession, tm, event, program, run_jobs, change
):
    event_id = event.id
    tm.commit()
    run_jobs()
    tm.begin()
    model = {
        "event": Event,
        "session": Session,
        "speaker": Speaker,
        "track": Track,
        "microlocation": Microlocation,
    }[change]
    row = dbsession.scalars(select(model).order_by(model.id)).first()
    if change == "session":
        row.title = "Renamed"
    else:
        row.name = "Renamed"
    requested = dbsession.get(FeedState, event_id).requested
    tm.commit()
    assert run_jobs() == 1
    tm.begin()
    state = dbsession.get(FeedState, event_id)
    assert state.requested == requested + 1 == state.built and not state.queued


def test_a_burst_of_edits_is_coalesced_into_one_rebuild(dbsession, tm, event, program, run_jobs):
    event_id, session_id = event.id, program["sessions"][0].id
    tm.commit()
    run_jobs()
    for n in range(100):
        tm.begin()
        dbsession.get(Session, session_id).title = f"Edit {n}"
        tm.commit()
    assert run_jobs() == 1
    tm.begin()
    state = dbsession.get(FeedState, event_id)
    assert state.built == state.requested and not state.queued and state.pending_since is None


def test_changes_during_a_rebuild_cause_one_more(
    dbsession, tm, event, program, run_jobs, monkeypatch
):
    from openevent_exports import feeds

    event_id, session_id = event.id, program["sessions"][0].id
    tm.commit()
    run_jobs()
    real_load = feeds.load_program
    edits = []

    def load_while_someone_edits(job_session, event_id_, public):
        if not edits:  # an organizer saves after the rebuild chose its generation
            edits.append(feeds.request_rebuild(job_session, event_id_, None))
        return real_load(job_session, event_id_, public=public)

    monkeypatch.setattr(feeds, "load_program", load_while_someone_edits)
    tm.begin()
    dbsession.get(Session, session_id).title = "First"
    tm.commit()
    assert run_jobs() == 2
    assert edits == [False]  # a rebuild was queued already: the edit only asked for more
    tm.begin()
    state = dbsession.get(FeedState, event_id)
    assert state.built == state.requested and not state.queued


def test_readers_never_meet_a_half_written_feed(
    testapp, event, program, headers, run_jobs, memory_storage
):
    session_id = program["sessions"][0].id
    for n in range(3):
        _rename_session(testapp, headers, session_id, f"Edit {n}")
        run_jobs()
    generations = {s.key.split("/")[2] for s in memory_storage.list(f"feeds/{event.id}/")}
    # The current generation and the one before (for readers that read the pointer just
    # before); files are put whole under new keys, and the pointer moves after.
    assert len(generations) == 2
    for name in FEED_NAMES:
        response = testapp.get(f"/v1/events/{event.id}/{name}")
        assert b"Edit 2" in response.body


def test_drafts_and_missing_events_have_no_feeds(
    testapp, dbsession, event, program, headers, run_jobs
):
    event.state = EventState.DRAFT
    dbsession.flush()
    for name in FEED_NAMES:
        testapp.get(f"/v1/events/{event.id}/{name}", status=404)
        testapp.get(f"/v1/events/{event.id}/{name}", headers=headers, status=404)
        testapp.get(f"/v1/events/999999/{name}", status=404)


def test_unpublishing_empties_the_feeds(testapp, event, program, headers, run_jobs):
    body = jsonapi_document("event", {"state": "draft"}, id=event.id)
    testapp.patch_json(f"/v1/events/{event.id}", body, headers=headers, status=200)
    run_jobs()
    testapp.get(f"/v1/events/{event.id}/schedule.ics", status=404)


def test_the_feeds_are_the_formats_bytes(dbsession, event, program):
    import io

    from openevent_exports.feeds import build_feeds
    from openevent_exports.formats import FORMATS, Writing
    from openevent_exports.snapshot import load_program

    public = load_program(dbsession, event.id, public=True)
    built = build_feeds(public, "https://events.example.org")
    for name, format_name in FEEDS.items():
        stream = io.BytesIO()
        FORMATS[format_name].write(public, stream, Writing(base_url="https://events.example.org"))
        assert built[name] == stream.getvalue()
