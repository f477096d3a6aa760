"""Turning plugins on and off per event: plugins off until an organizer turns them on, and the
on_enabled/on_disabled hooks, run in the transaction that flips the switch.

The sample plugin (tests/plugin_dist) is on by default; ``plugin_info`` makes it off by default
or swaps its hooks for a test. Its own hooks (lifecycle.py) leave a welcome note in a job when it
is turned on, and forget the event's notes when it is turned off if its settings say so."""

import logging

import pytest
from sqlalchemy import select

from openevent.api.errors import Conflict
from openevent.changes import ModelChanged
from openevent.jobs import enqueue
from openevent.models import EventPlugin, OutboxMessage
from openevent.plugins import is_enabled_for_event
from openevent.testing import jsonapi_document


# The sample plugin is installed when the test session starts, after collection.
def _sample_note(**values):
    from openevent_sample_plugin.models import SampleNote

    return SampleNote(**values)


def _welcome_job():
    from openevent_sample_plugin.lifecycle import write_welcome_note

    return write_welcome_note


def _switch(testapp, headers, event, enabled, status=200, **settings):
    attributes = {"enabled": enabled}
    if settings:
        attributes["settings"] = settings
    body = {"data": [{"type": "event-plugin", "id": "sample", "attributes": attributes}]}
    return testapp.patch_json(
        f"/v1/events/{event.id}/plugins", body, headers=headers, status=status
    )


def _notes(dbsession, event_id: int) -> list[str]:
    from openevent_sample_plugin.models import SampleNote

    dbsession.expire_all()
    query = select(SampleNote.text).where(SampleNote.event_id == event_id).order_by(SampleNote.id)
    return list(dbsession.scalars(query))


@pytest.fixture
def hooks(plugin_info):
    """The sample plugin's hooks, recorded: ``(enabled, event_id, user_id)`` per call."""
    calls = []

    def record(switch):
        calls.append((switch.enabled, switch.event_id, switch.user_id))

    plugin_info("sample", on_enabled=record, on_disabled=record)
    return calls


# Off until an organizer turns it on


def test_an_off_by_default_plugin_is_off_until_an_organizer_turns_it_on(
    testapp, dbsession, event, headers, plugin_info
):
    plugin_info("sample", enabled_by_default=False)
    url = f"/v1/events/{event.id}/plugins/sample"
    attributes = testapp.get(url, headers=headers).json["data"]["attributes"]
    assert (attributes["enabled"], attributes["enabled-by-default"]) == (False, False)
    assert is_enabled_for_event(dbsession, "sample", event.id) is False
    assert is_enabled_for_event(dbsession, "sample", None) is True  # changes of no event
    # The plugin's route, which asks is_enabled_for_event, stops acting for the event.
    testapp.get(f"/v1/events/{event.id}/sample-notes", headers=headers, status=404)

    _switch(testapp, headers, event, True)
    assert testapp.get(url, headers=headers).json["data"]["attributes"]["enabled"] is True
    testapp.get(f"/v1/events/{event.id}/sample-notes", headers=headers, status=200)


def test_the_organizers_choice_outlives_the_default_and_settings_alone_are_no_choice(
    dbsession, event, plugin_info
):
    plugin_info("sample", enabled_by_default=False)
    dbsession.add(EventPlugin(event_id=event.id, plugin="sample", settings={"keep-notes": False}))
    dbsession.flush()
    assert is_enabled_for_event(dbsession, "sample", event.id) is False
    dbsession.get(EventPlugin, (event.id, "sample")).enabled = True
    dbsession.flush()
    assert is_enabled_for_event(dbsession, "sample", event.id) is True


def test_changes_reach_an_off_by_default_plugin_only_once_it_is_on(
    testapp, registry, event, headers, plugin_info
):
    plugin_info("sample", enabled_by_default=False)
    seen = []

    def subscriber(change):
        seen.append(change.changes["name"][1])

    subscriber.__module__ = "openevent_sample_plugin.probe"  # a subscriber of the plugin's
    registry.registerHandler(subscriber, (ModelChanged,))
    try:
        for name in ("While off", "Turned on"):
            if name == "Turned on":
                _switch(testapp, headers, event, True)
            document = jsonapi_document("event", {"name": name}, id=event.id)
            testapp.patch_json(f"/v1/events/{event.id}", document, headers=headers, status=200)
    finally:
        registry.unregisterHandler(subscriber, (ModelChanged,))
    assert seen == ["Turned on"]


@pytest.mark.parametrize("enabled_by_default, notes", [(True, 1), (False, 0)])
def test_jobs_of_an_off_by_default_plugin_are_skipped(
    dbsession, tm, event, run_jobs, plugin_info, enabled_by_default, notes
):
    plugin_info("sample", enabled_by_default=enabled_by_default)
    event_id = event.id
    enqueue(dbsession, _welcome_job(), event_id=event_id)
    tm.commit()
    run_jobs()
    tm.begin()
    assert len(_notes(dbsession, event_id)) == notes


# Hooks


def test_hooks_run_when_whether_the_plugin_acts_changes_with_the_event_and_user(
    testapp, event, owner, headers, hooks
):
    _switch(testapp, headers, event, True)  # on already (the default): no hook
    _switch(testapp, headers, event, False)
    _switch(testapp, headers, event, False)  # off already
    _switch(testapp, headers, event, True)
    assert hooks == [(False, event.id, owner.id), (True, event.id, owner.id)]


def test_turning_an_off_by_default_plugin_on_runs_on_enabled(
    testapp, event, owner, headers, hooks, plugin_info
):
    plugin_info("sample", enabled_by_default=False)
    _switch(testapp, headers, event, True)
    assert hooks == [(True, event.id, owner.id)]


def test_the_sample_plugin_leaves_a_note_with_the_settings_sent_with_the_switch(
    testapp, dbsession, event, headers, run_jobs
):
    _switch(testapp, headers, event, False)
    # Settings are written before the switch: the hook, and the job it starts, read them.
    _switch(testapp, headers, event, True, **{"welcome-text": "Welcome back"})
    run_jobs()
    assert _notes(dbsession, event.id) == ["Welcome back"]


def test_the_sample_plugin_forgets_notes_when_turned_off_if_its_settings_say_so(
    testapp, dbsession, event, headers
):
    dbsession.add(_sample_note(event_id=event.id, text="Bring the projector"))
    dbsession.flush()
    _switch(testapp, headers, event, False)  # keep-notes is true by default
    assert _notes(dbsession, event.id) == ["Bring the projector"]
    _switch(testapp, headers, event, True, **{"welcome-note": False})
    _switch(testapp, headers, event, False, **{"keep-notes": False})
    assert _notes(dbsession, event.id) == []


def test_what_on_enabled_writes_commits_with_the_switch_or_not_at_all(
    testapp, dbsession, event, headers, plugin_info
):
    def welcome(switch):
        switch.dbsession.add(_sample_note(event_id=switch.event_id, text="on"))

    def refuse(switch):
        welcome(switch)
        raise Conflict("set welcome-text first")

    _switch(testapp, headers, event, False)
    plugin_info("sample", on_enabled=refuse)
    response = _switch(testapp, headers, event, True, status=409)
    assert response.json["errors"][0]["detail"] == "set welcome-text first"
    assert _notes(dbsession, event.id) == []
    assert is_enabled_for_event(dbsession, "sample", event.id) is False

    plugin_info("sample", on_enabled=welcome)
    _switch(testapp, headers, event, True)
    assert _notes(dbsession, event.id) == ["on"]


def test_a_failing_on_enabled_fails_the_switch(testapp, dbsession, event, headers, plugin_info):
    def broken(switch):
        raise RuntimeError("backfill failed")

    _switch(testapp, headers, event, False)
    plugin_info("sample", on_enabled=broken)
    _switch(testapp, headers, event, True, status=500)
    dbsession.expire_all()
    assert is_enabled_for_event(dbsession, "sample", event.id) is False


def test_a_failing_on_disabled_is_logged_and_the_plugin_is_off_anyway(
    testapp, dbsession, event, headers, plugin_info, caplog
):
    def broken(switch):
        switch.dbsession.add(_sample_note(event_id=switch.event_id, text="half done"))
        switch.dbsession.flush()
        raise RuntimeError("cleanup failed")

    plugin_info("sample", on_disabled=broken)
    with caplog.at_level(logging.ERROR, logger="openevent.plugins"):
        _switch(testapp, headers, event, False)
    assert f"on_disabled of plugin sample failed for event {event.id}" in caplog.messages
    assert is_enabled_for_event(dbsession, "sample", event.id) is False
    assert _notes(dbsession, event.id) == []  # its writes are undone


def test_a_job_from_on_enabled_is_the_events_and_one_from_on_disabled_is_not(
    testapp, dbsession, event, headers, plugin_info
):
    def start_job(switch):
        switch.enqueue(_welcome_job())

    plugin_info("sample", on_enabled=start_job, on_disabled=start_job)
    _switch(testapp, headers, event, False)
    _switch(testapp, headers, event, True)
    query = (
        select(OutboxMessage.event_id, OutboxMessage.plugin)
        .where(OutboxMessage.actor_name.endswith("write_welcome_note"))
        .order_by(OutboxMessage.created_at)
    )
    # Tied to the event, a job of a plugin that is off for it would be skipped.
    assert dbsession.execute(query).all() == [(None, "sample"), (event.id, "sample")]
