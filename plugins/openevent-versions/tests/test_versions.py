"""The versions plugin: counters raised by committed changes, served with an ETag."""

from sqlalchemy import select

from openevent.models import (
    Event,
    EventRole,
    EventState,
    Microlocation,
    Role,
    Session,
    Speaker,
    Track,
)
from openevent.plugins import PLUGINS_KEY, PluginState
from openevent.testing import (
    JSONAPI_HEADERS,
    jsonapi_document,
    make_event,
    make_session,
    make_ticket,
    make_user,
)
from openevent_versions.models import COLLECTIONS, EventVersions

ZERO = dict.fromkeys(COLLECTIONS, 0)


def _patch_session(testapp, headers, session_id, attributes, status=200):
    body = jsonapi_document("session", attributes, id=session_id)
    return testapp.patch_json(f"/v1/sessions/{session_id}", body, headers=headers, status=status)


def _disable(testapp, headers, event_id):
    body = {"data": [{"type": "event-plugin", "id": "versions", "attributes": {"enabled": False}}]}
    testapp.patch_json(f"/v1/events/{event_id}/plugins", body, headers=headers, status=200)


def test_the_plugin_is_active_with_its_route_under_v1(registry):
    assert registry[PLUGINS_KEY]["versions"].state is PluginState.ACTIVE
    routes = {
        item["introspectable"]["name"]: item["introspectable"]["pattern"]
        for item in registry.introspector.get_category("routes")
    }
    assert routes["versions.event"].lstrip("/") == "v1/events/{id}/versions"


def test_a_new_event_has_zero_counters(testapp, event):
    document = testapp.get(f"/v1/events/{event.id}/versions").json
    assert document["data"] == {"type": "event-versions", "id": str(event.id), "attributes": ZERO}


def test_updating_a_session_raises_sessions_by_one(
    testapp, dbsession, event, headers, versions, run_jobs
):
    session = make_session(dbsession, event)
    _patch_session(testapp, headers, session.id, {"title": "Opening keynote"})
    assert versions(event.id) == ZERO  # the job has not run yet
    assert run_jobs() == 1
    assert versions(event.id) == {**ZERO, "sessions": 1}


def test_ten_sessions_in_one_transaction_raise_sessions_once(
    dbsession, tm, event, versions, run_jobs
):
    event_id = event.id
    for i in range(10):
        make_session(dbsession, event, title=f"Talk {i}")
    tm.commit()  # closes the session: keep ids, not rows, across commits
    run_jobs()
    before = versions(event_id)
    tm.begin()
    for session in dbsession.scalars(select(Session).where(Session.event_id == event_id)):
        session.title += "!"
    tm.commit()
    assert run_jobs() == 1
    assert versions(event_id) == {**before, "sessions": before["sessions"] + 1}


def test_a_failed_request_raises_nothing(testapp, dbsession, event, headers, versions, run_jobs):
    session = make_session(dbsession, event)
    _patch_session(testapp, headers, session.id, {"title": ""}, status=422)
    assert run_jobs() == 0
    assert versions(event.id) == ZERO


def test_changing_the_event_raises_event(testapp, event, headers, versions, run_jobs):
    body = jsonapi_document("event", {"name": "FOSSASIA Summit 2030"}, id=event.id)
    testapp.patch_json(f"/v1/events/{event.id}", body, headers=headers, status=200)
    run_jobs()
    assert versions(event.id) == {**ZERO, "event": 1}


def test_each_collection_has_its_counter_and_team_changes_raise_none(
    dbsession, tm, owner, event, versions, run_jobs
):
    event_id = event.id
    tm.commit()
    run_jobs()
    before = versions(event_id)
    tm.begin()
    event = dbsession.get(Event, event_id)
    make_session(dbsession, event)
    dbsession.add_all(
        [
            Speaker(event=event, name="Ada Lovelace"),
            Track(event=event, name="Main"),
            Microlocation(event=event, name="Hall A"),
        ]
    )
    make_ticket(dbsession, event)
    tm.commit()
    assert run_jobs() == 1  # one job for the event, all its collections at once
    after = versions(event_id)
    assert {name: after[name] - before[name] for name in COLLECTIONS} == {
        **dict.fromkeys(COLLECTIONS, 1),
        "event": 0,
    }

    tm.begin()
    team_member = make_user(dbsession, password=None)
    dbsession.add(EventRole(event_id=event_id, user=team_member, role=Role.ORGANIZER))
    tm.commit()
    run_jobs()
    assert versions(event_id) == after


def test_a_plugin_disabled_for_the_event_bumps_nothing(
    testapp, dbsession, event, headers, run_jobs
):
    session = make_session(dbsession, event)
    _disable(testapp, headers, event.id)
    _patch_session(testapp, headers, session.id, {"title": "Off the record"})
    run_jobs()
    assert dbsession.get(EventVersions, event.id) is None
    # The API says so rather than serve counters that no longer move.
    testapp.get(f"/v1/events/{event.id}/versions", headers=headers, status=404)


def test_a_job_enqueued_before_the_plugin_was_disabled_bumps_nothing(
    testapp, dbsession, event, headers, run_jobs
):
    session = make_session(dbsession, event)
    _patch_session(testapp, headers, session.id, {"title": "Queued"})
    _disable(testapp, headers, event.id)
    run_jobs()
    dbsession.expire_all()
    assert dbsession.get(EventVersions, event.id) is None


def test_other_events_keep_their_counters(testapp, dbsession, owner, event, headers, run_jobs):
    other = make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
    session = make_session(dbsession, event)
    _patch_session(testapp, headers, session.id, {"title": "Mine"})
    run_jobs()
    assert testapp.get(f"/v1/events/{other.id}/versions").json["data"]["attributes"] == ZERO


def test_etag_and_if_none_match(testapp, dbsession, event, headers, run_jobs):
    url = f"/v1/events/{event.id}/versions"
    first = testapp.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    assert first.headers["Cache-Control"] == "no-cache"
    not_modified = testapp.get(url, headers={"If-None-Match": etag}, status=304)
    assert not_modified.body == b""
    assert not_modified.headers["ETag"] == etag

    session = make_session(dbsession, event)
    _patch_session(testapp, headers, session.id, {"title": "New"})
    run_jobs()
    changed = testapp.get(url, headers={"If-None-Match": etag}, status=200)
    assert changed.headers["ETag"] != etag
    assert changed.json["data"]["attributes"]["sessions"] == 1


def test_a_draft_events_versions_are_for_its_team_only(testapp, dbsession, owner, token_for):
    draft = make_event(dbsession, owner=owner, state=EventState.DRAFT)
    url = f"/v1/events/{draft.id}/versions"
    testapp.get(url, status=404)
    stranger = make_user(dbsession, password=None)
    testapp.get(url, headers=token_for(stranger), status=404)
    testapp.get(url, headers={**JSONAPI_HEADERS, **token_for(owner)}, status=200)


def test_an_unknown_event_is_404(testapp):
    testapp.get("/v1/events/999999/versions", status=404)


def test_a_bump_for_a_deleted_event_is_a_no_op(dbsession, tm, event, run_jobs):
    event_id = event.id
    make_session(dbsession, event)
    tm.commit()  # enqueues a bump for the event
    tm.begin()
    dbsession.delete(dbsession.get(Event, event_id))
    tm.commit()
    run_jobs()  # both bumps find no event: nothing to raise, nothing fails
    tm.begin()
    assert dbsession.get(EventVersions, event_id) is None


def test_the_route_is_described_in_openapi(testapp):
    paths = testapp.get("/v1/openapi.json").json["paths"]
    operation = paths["/v1/events/{id}/versions"]["get"]
    assert "ETag" in operation["summary"]


def test_event_counters_for_other_plugins(testapp, dbsession, event, headers, run_jobs):
    from openevent_versions import event_counters

    assert event_counters(dbsession, event.id) == ZERO
    session = make_session(dbsession, event)
    _patch_session(testapp, headers, session.id, {"title": "Renamed"})
    run_jobs()
    dbsession.expire_all()
    assert event_counters(dbsession, event.id) == {**ZERO, "sessions": 1}
    other = make_event(dbsession, owner=event.roles[0].user, state=EventState.PUBLISHED)
    _disable(testapp, headers, other.id)
    # (is_enabled_for_event caches per transaction: asked first after the switch.)
    assert event_counters(dbsession, other.id) is None
