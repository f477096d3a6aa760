"""ETags: a reload of an unchanged page is a 304, a change makes a new tag."""

from datetime import UTC, datetime, timedelta

import pytest

from openevent.models import SessionState
from openevent.testing import jsonapi_document, make_session

START = datetime(2030, 3, 17, 1, 0, tzinfo=UTC)


@pytest.fixture
def talk(dbsession, event):
    return make_session(
        dbsession,
        event,
        title="Keynote",
        state=SessionState.ACCEPTED,
        starts_at=START,
        ends_at=START + timedelta(minutes=30),
    )


def _schedule(event):
    return f"/events/{event.identifier}/schedule"


def _retitle(testapp, headers, session, title):
    body = jsonapi_document("session", {"title": title}, id=session.id)
    testapp.patch_json(f"/v1/sessions/{session.id}", body, headers=headers, status=200)


def _switch(testapp, headers, event, plugin, enabled):
    body = {"data": [{"type": "event-plugin", "id": plugin, "attributes": {"enabled": enabled}}]}
    testapp.patch_json(f"/v1/events/{event.id}/plugins", body, headers=headers, status=200)


def test_a_reload_of_an_unchanged_schedule_is_a_304_without_reading_the_program(
    testapp, event, talk, count_statements
):
    first = testapp.get(_schedule(event))
    assert first.etag
    assert first.headers["Cache-Control"] == "no-cache"
    with count_statements() as statements:
        again = testapp.get(_schedule(event), headers={"If-None-Match": f'"{first.etag}"'})
    assert again.status_int == 304
    assert again.body == b""
    assert again.etag == first.etag
    # The event, the plugin switches and the counters; no session, room or speaker.
    assert not any("FROM sessions" in s or "FROM speakers" in s for s in statements)


def test_a_change_gives_a_new_tag_once_the_counters_moved(testapp, event, talk, headers, run_jobs):
    before = testapp.get(_schedule(event)).etag
    _retitle(testapp, headers, talk, "Opening keynote")
    run_jobs()  # the versions plugin raises the sessions counter
    after = testapp.get(_schedule(event), headers={"If-None-Match": f'"{before}"'})
    assert after.status_int == 200
    assert "Opening keynote" in after.text
    assert after.etag != before


def test_each_page_and_language_has_its_own_tag(testapp, event, talk):
    tags = {
        testapp.get(_schedule(event)).etag,
        testapp.get(_schedule(event), {"lang": "de"}).etag,
        testapp.get(_schedule(event), headers={"Accept-Language": "fr"}).etag,
        testapp.get(_schedule(event), {"view": "list"}).etag,
        testapp.get(f"/events/{event.identifier}/").etag,
        testapp.get(f"/events/{event.identifier}/speakers").etag,
    }
    assert len(tags) == 6


def test_without_the_versions_counters_the_tag_is_the_pages_hash(
    testapp, event, talk, headers, run_jobs
):
    with_counters = testapp.get(_schedule(event)).etag
    _switch(testapp, headers, event, "versions", False)
    first = testapp.get(_schedule(event))
    assert first.etag != with_counters
    again = testapp.get(_schedule(event), headers={"If-None-Match": f'"{first.etag}"'})
    assert again.status_int == 304
    # With no counters to go by, a change shows at once.
    _retitle(testapp, headers, talk, "Opening keynote")
    changed = testapp.get(_schedule(event), headers={"If-None-Match": f'"{first.etag}"'})
    assert changed.status_int == 200
    assert "Opening keynote" in changed.text


def test_errors_carry_no_tag(testapp, event):
    response = testapp.get(_schedule(event), {"day": "nope"}, status=400)
    assert response.etag is None
