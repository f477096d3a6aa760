"""The sample plugin (tests/plugin_dist), the tutorial's working example, end to end: a change
of a session's title reaches its subscriber after the commit, whose job writes the log row
that its collection serves."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from openevent.db import utcnow
from openevent.jobs.definitions import JobContext
from openevent.models import Event, EventPlugin
from openevent.testing import jsonapi_document, make_session


@pytest.fixture
def title_changes(sample_plugins_installed):
    from openevent_sample_plugin.models import SessionTitleChange

    return SessionTitleChange


def _patch(testapp, headers, session, **attributes):
    body = jsonapi_document("session", attributes, id=session.id)
    testapp.patch_json(f"/v1/sessions/{session.id}", body, headers=headers, status=200)


def _log(testapp, headers, event) -> list[dict]:
    url = f"/v1/events/{event.id}/session-title-changes"
    return [item["attributes"] for item in testapp.get(url, headers=headers).json["data"]]


def test_a_title_change_is_logged_by_a_job(testapp, dbsession, event, owner, headers, run_jobs):
    session = make_session(dbsession, event, title="Keynote")
    before = utcnow()
    _patch(testapp, headers, session, title="Opening keynote")
    after = utcnow()
    assert _log(testapp, headers, event) == []  # the job has not run yet
    run_jobs()  # (the versions plugin's, installed beside it, run too)

    [entry] = _log(testapp, headers, event)
    changed_at = datetime.fromisoformat(entry.pop("changed-at"))
    assert entry == {
        "session-id": session.id,
        "old-title": "Keynote",
        "new-title": "Opening keynote",
        "user-id": owner.id,
    }
    assert changed_at.utcoffset().total_seconds() == 8 * 3600  # Asia/Singapore, the event's
    assert before <= changed_at.astimezone(UTC) <= after


def test_other_changes_of_a_session_log_nothing(testapp, dbsession, event, headers, run_jobs):
    session = make_session(dbsession, event, title="Keynote")
    _patch(testapp, headers, session, subtitle="On the future")
    body = jsonapi_document("session", {"title": "Workshop"}, event=("event", event.id))
    testapp.post_json("/v1/sessions", body, headers=headers, status=201)
    run_jobs()
    assert _log(testapp, headers, event) == []


def test_turned_off_for_the_event_nothing_is_logged(
    testapp, dbsession, event, headers, run_jobs, title_changes
):
    session = make_session(dbsession, event, title="Keynote")
    dbsession.add(EventPlugin(event_id=event.id, plugin="sample", enabled=False))
    dbsession.flush()
    _patch(testapp, headers, session, title="Opening keynote")
    run_jobs()
    assert dbsession.scalars(select(title_changes)).all() == []


def test_a_message_delivered_twice_writes_one_row(dbsession, registry, event, title_changes):
    from openevent_sample_plugin.jobs import record_title_change

    context = JobContext(dbsession, registry, "message-1", event.id)
    for _ in range(2):  # Dramatiq delivers at least once
        record_title_change(context, 7, "Keynote", "Opening keynote", utcnow().isoformat(), None)
        dbsession.flush()
    assert len(dbsession.scalars(select(title_changes)).all()) == 1


def test_a_job_for_an_event_deleted_since_records_nothing(
    dbsession, registry, event, title_changes
):
    from openevent_sample_plugin.jobs import record_title_change

    event_id = event.id
    dbsession.delete(dbsession.get(Event, event_id))
    dbsession.flush()
    context = JobContext(dbsession, registry, "message-2", event_id)
    record_title_change(context, 7, "Keynote", "Opening keynote", utcnow().isoformat(), None)
    dbsession.flush()
    assert dbsession.scalars(select(title_changes)).all() == []
