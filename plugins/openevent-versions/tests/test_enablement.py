"""The versions plugin turned off and on for an event: turning it back on raises every counter,
so clients refetch what changed while it was off."""

from dataclasses import replace

import pytest

from openevent.plugins import PLUGINS_KEY
from openevent.testing import jsonapi_document, make_session
from openevent_versions.models import COLLECTIONS


def _switch(testapp, headers, event_id, enabled):
    body = {
        "data": [{"type": "event-plugin", "id": "versions", "attributes": {"enabled": enabled}}]
    }
    testapp.patch_json(f"/v1/events/{event_id}/plugins", body, headers=headers, status=200)


def _rename(testapp, headers, session_id, title):
    body = jsonapi_document("session", {"title": title}, id=session_id)
    testapp.patch_json(f"/v1/sessions/{session_id}", body, headers=headers, status=200)


@pytest.fixture
def off_by_default(registry, monkeypatch):
    """For this test, the plugin acts only for events whose organizers turned it on."""
    plugins = registry[PLUGINS_KEY]
    monkeypatch.setitem(plugins, "versions", replace(plugins["versions"], enabled_by_default=False))


def test_turning_it_back_on_raises_every_counter_by_one(
    testapp, dbsession, event, headers, versions, run_jobs
):
    session = make_session(dbsession, event)
    _rename(testapp, headers, session.id, "Before")
    run_jobs()
    before = versions(event.id)
    assert before["sessions"] == 1

    _switch(testapp, headers, event.id, False)
    _rename(testapp, headers, session.id, "While off")  # raises nothing: the plugin is off
    run_jobs()
    _switch(testapp, headers, event.id, True)
    # At once, in the transaction that turned it on: no job to wait for.
    assert versions(event.id) == {name: before[name] + 1 for name in COLLECTIONS}
    assert run_jobs() == 0


def test_turning_it_on_when_it_is_on_raises_nothing(testapp, event, headers, versions):
    _switch(testapp, headers, event.id, True)
    assert versions(event.id) == dict.fromkeys(COLLECTIONS, 0)


def test_off_by_default_it_counts_nothing_until_an_organizer_turns_it_on(
    testapp, dbsession, event, headers, versions, run_jobs, off_by_default
):
    session = make_session(dbsession, event)
    _rename(testapp, headers, session.id, "Unseen")
    run_jobs()
    testapp.get(f"/v1/events/{event.id}/versions", status=404)

    _switch(testapp, headers, event.id, True)
    assert versions(event.id) == dict.fromkeys(COLLECTIONS, 1)
    _rename(testapp, headers, session.id, "Seen")
    run_jobs()
    assert versions(event.id)["sessions"] == 2
