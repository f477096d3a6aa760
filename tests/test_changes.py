import dataclasses
import logging

import pytest
from zope.interface import implementedBy

from openevent import changes, plugins
from openevent.changes import (
    ModelChanged,
    ModelCreated,
    ModelUpdated,
    SessionChanged,
    SessionCreated,
    SessionDeleted,
    SessionUpdated,
    SpeakerCreated,
    SpeakerUpdated,
    TicketUpdated,
    TrackDeleted,
    TrackUpdated,
)
from openevent.db import transaction_scope
from openevent.models import Event, EventState, Session, SessionState, Track
from openevent.testing import (
    JSONAPI_HEADERS,
    jsonapi_document,
    make_event,
    make_session,
    make_speaker,
    make_ticket,
    make_user,
)


@pytest.fixture
def owner(dbsession):
    return make_user(dbsession, email="owner@example.org", password=None)


@pytest.fixture
def headers(token_for, owner):
    return {**token_for(owner), **JSONAPI_HEADERS}


@pytest.fixture
def event(dbsession, owner):
    return make_event(dbsession, owner=owner, state=EventState.PUBLISHED)


@pytest.fixture
def subscribe(app_config, registry):
    """``subscribe(fn, ChangeClass, **predicates)`` through Pyramid, undone after the test."""
    added = []

    def _subscribe(subscriber, change_class, **predicates):
        spec = [implementedBy(change_class)]
        before = set(registry.adapters.subscriptions(spec, None))
        app_config.add_subscriber(subscriber, change_class, **predicates)
        app_config.commit()
        for handler in registry.adapters.subscriptions(spec, None):
            if handler not in before:
                added.append((handler, change_class))

    yield _subscribe
    for handler, change_class in added:
        registry.unregisterHandler(handler, (change_class,))


def create_session(testapp, headers, event, status=201, **attributes):
    body = jsonapi_document(
        "session", {"title": "Keynote", **attributes}, event=("event", event.id)
    )
    return testapp.post_json("/v1/sessions", body, headers=headers, status=status)


def patch_session(testapp, headers, session_id, attributes=None, status=200, **relationships):
    body = jsonapi_document("session", attributes, id=session_id, **relationships)
    return testapp.patch_json(f"/v1/sessions/{session_id}", body, headers=headers, status=status)


# Through requests


def test_a_created_session_is_delivered_once_with_ids_user_and_values(
    testapp, headers, event, owner, captured_changes
):
    session_id = int(create_session(testapp, headers, event).json["data"]["id"])

    [change] = captured_changes
    assert type(change) is SessionCreated
    assert (change.model, change.kind) == ("session", "created")
    assert (change.id, change.event_id, change.user_id) == (session_id, event.id, owner.id)
    assert change.changes["title"] == (None, "Keynote")
    assert change.changes["event_id"] == (None, event.id)
    # Enums become their values; plain str, not the enum.
    assert change.changes["state"] == (None, "draft")
    assert type(change.changes["state"][1]) is str
    assert not change.soft and not change.restored


def test_an_update_carries_old_and_new_values_of_what_changed(
    testapp, dbsession, headers, event, owner, captured_changes
):
    session = make_session(dbsession, event, title="Old", subtitle="Same")
    patch_session(testapp, headers, session.id, {"title": "New", "subtitle": "Same"})

    [change] = captured_changes
    assert type(change) is SessionUpdated
    assert (change.id, change.event_id, change.user_id) == (session.id, event.id, owner.id)
    assert change.changes["title"] == ("Old", "New")
    assert set(change.changes) == {"title", "last_modified_at"}


def test_change_objects_are_frozen_and_hold_no_orm_instances(
    testapp, dbsession, headers, event, captured_changes
):
    session = make_session(dbsession, event)
    patch_session(testapp, headers, session.id, {"title": "New"})
    [change] = captured_changes
    with pytest.raises(dataclasses.FrozenInstanceError):
        change.id = 1
    with pytest.raises(TypeError):
        change.changes["title"] = ("a", "b")
    values = [v for pair in change.changes.values() for v in pair]
    assert not any(hasattr(v, "_sa_instance_state") for v in values)


def test_a_failed_request_delivers_nothing(testapp, headers, event, captured_changes):
    create_session(testapp, headers, event, status=422, **{"starts-at": "not a time"})
    assert captured_changes == []


def test_a_soft_delete_is_a_deletion_and_a_restore_a_creation(
    testapp, dbsession, headers, event, captured_changes
):
    session = make_session(dbsession, event, title="Talk")
    testapp.delete(f"/v1/sessions/{session.id}", headers=headers, status=204)
    patch_session(testapp, headers, session.id, {"deleted-at": None})
    testapp.delete(f"/v1/sessions/{session.id}?permanent=true", headers=headers, status=204)

    trashed, restored, deleted = captured_changes
    assert type(trashed) is SessionDeleted and trashed.soft and not trashed.restored
    assert trashed.changes["deleted_at"][0] is None
    assert trashed.changes["deleted_at"][1] is not None
    assert type(restored) is SessionCreated and restored.restored and not restored.soft
    assert restored.changes["deleted_at"] == (trashed.changes["deleted_at"][1], None)
    assert type(deleted) is SessionDeleted and not deleted.soft
    assert deleted.changes["title"] == ("Talk", None)
    assert {c.id for c in captured_changes} == {session.id}


def test_speakers_of_a_session_are_reported_as_ids_on_both_sides(
    testapp, dbsession, headers, event, captured_changes
):
    session = make_session(dbsession, event)
    ada = make_speaker(dbsession, event, name="Ada")
    grace = make_speaker(dbsession, event, name="Grace")
    patch_session(testapp, headers, session.id, speakers=[("speaker", ada.id)])
    by_class = {type(c): c for c in captured_changes}
    assert by_class[SessionUpdated].changes["speakers"] == ((), (ada.id,))
    assert by_class[SpeakerUpdated].id == ada.id
    assert by_class[SpeakerUpdated].changes["sessions"] == ((), (session.id,))

    captured_changes.clear()
    patch_session(testapp, headers, session.id, speakers=[("speaker", grace.id)])
    session_changes = [c for c in captured_changes if isinstance(c, SessionChanged)]
    assert [c.changes["speakers"] for c in session_changes] == [((ada.id,), (grace.id,))]
    speaker_changes = {
        c.id: c.changes["sessions"] for c in captured_changes if c.model == "speaker"
    }
    assert speaker_changes == {ada.id: ((session.id,), ()), grace.id: ((), (session.id,))}


def test_ticket_renumbering_reports_every_shifted_ticket(
    testapp, dbsession, headers, event, captured_changes
):
    a, b, c = (make_ticket(dbsession, event, name=name) for name in "ABC")
    body = jsonapi_document("ticket", {"position": 1}, id=c.id)
    testapp.patch_json(f"/v1/tickets/{c.id}", body, headers=headers, status=200)

    assert all(type(change) is TicketUpdated for change in captured_changes)
    moves = {change.id: change.changes["position"] for change in captured_changes}
    assert moves == {a.id: (1, 2), b.id: (2, 3), c.id: (3, 1)}
    assert {change.event_id for change in captured_changes} == {event.id}


def test_muted_delivery_delivers_nothing(
    testapp, headers, event, captured_changes, mute_changes, registry
):
    create_session(testapp, headers, event)
    assert captured_changes == []
    assert registry.settings["openevent.changes.deliver"] is False


# Subscribers: classes, predicates, failures


def test_base_classes_receive_their_subclasses(
    testapp, dbsession, headers, event, subscribe, captured_changes
):
    session_changes, updates, creations = [], [], []
    subscribe(session_changes.append, SessionChanged)
    subscribe(updates.append, ModelUpdated)
    subscribe(creations.append, ModelCreated)
    speaker = make_speaker(dbsession, event)
    session_id = int(create_session(testapp, headers, event).json["data"]["id"])
    testapp.patch_json(
        f"/v1/speakers/{speaker.id}",
        jsonapi_document("speaker", {"name": "Grace"}, id=speaker.id),
        headers=headers,
    )

    assert [type(c) for c in session_changes] == [SessionCreated]
    assert [type(c) for c in creations] == [SessionCreated]
    assert [(type(c), c.id) for c in updates] == [(SpeakerUpdated, speaker.id)]
    assert session_changes[0].id == session_id
    assert len(captured_changes) == 2


def test_event_id_predicate_narrows_to_one_event(
    testapp, dbsession, headers, event, owner, subscribe
):
    other = make_event(dbsession, owner=owner)
    received = []
    subscribe(received.append, SessionCreated, event_id=event.id)
    create_session(testapp, headers, other)
    create_session(testapp, headers, event)
    assert [c.event_id for c in received] == [event.id]


def test_attributes_predicate_narrows_updates(testapp, dbsession, headers, event, subscribe):
    session = make_session(dbsession, event)
    received = []
    subscribe(received.append, SessionChanged, attributes=("title",))
    patch_session(testapp, headers, session.id, {"subtitle": "Nope"})
    patch_session(testapp, headers, session.id, {"title": "Yes"})
    create_session(testapp, headers, event, title="Created")
    assert [(type(c), c.changes["title"][1]) for c in received] == [
        (SessionUpdated, "Yes"),
        (SessionCreated, "Created"),
    ]


def test_predicates_reject_bad_values(app_config):
    with pytest.raises(TypeError, match="event_id"):
        changes.EventIdPredicate("1", app_config)
    with pytest.raises(TypeError, match="attributes"):
        changes.AttributesPredicate((), app_config)
    assert changes.AttributesPredicate("title", app_config).names == {"title"}


def _plugin_subscriber(calls):
    def on_change(change):
        calls.append(change)
        raise RuntimeError("plugin bug")

    on_change.__module__ = "openevent_boom.subscribers"
    return on_change


def test_a_raising_subscriber_is_logged_and_the_others_run(
    testapp, headers, event, registry, subscribe, monkeypatch, caplog
):
    monkeypatch.setitem(
        registry, plugins.PLUGINS_KEY, {"boom": plugins.PluginInfo("boom", "openevent_boom")}
    )
    calls, after = [], []
    subscribe(_plugin_subscriber(calls), SessionCreated)
    subscribe(after.append, ModelChanged)

    with caplog.at_level(logging.ERROR, logger="openevent.changes"):
        create_session(testapp, headers, event, status=201)

    assert len(calls) == 1
    assert [type(c) for c in after] == [SessionCreated]
    [record] = caplog.records
    assert "boom" in record.getMessage()
    assert "on_change" in record.getMessage()
    assert record.exc_info[0] is RuntimeError


def test_a_core_subscriber_failure_is_logged_as_core(
    testapp, headers, event, subscribe, caplog, captured_changes
):
    def broken(change):
        raise ValueError("core bug")

    subscribe(broken, SessionCreated)
    with caplog.at_level(logging.ERROR, logger="openevent.changes"):
        create_session(testapp, headers, event, status=201)
    [record] = caplog.records
    assert "plugin core" in record.getMessage()
    assert len(captured_changes) == 1


def test_subscribers_of_a_plugin_disabled_for_the_event_are_skipped(
    testapp, dbsession, headers, event, owner, registry, subscribe, monkeypatch
):
    other = make_event(dbsession, owner=owner)
    monkeypatch.setitem(
        registry, plugins.PLUGINS_KEY, {"boom": plugins.PluginInfo("boom", "openevent_boom")}
    )
    asked = []

    def enabled(dbsession, plugin, event_id):
        asked.append((plugin, event_id))
        return event_id == other.id

    monkeypatch.setattr(plugins, "is_enabled_for_event", enabled)
    calls = []
    subscribe(_plugin_subscriber(calls), SessionCreated)
    create_session(testapp, headers, event)
    create_session(testapp, headers, other)
    assert [c.event_id for c in calls] == [other.id]
    assert asked == [("boom", event.id), ("boom", other.id)]


# Through transaction_scope, as jobs and scripts


def test_a_job_change_is_delivered_after_commit_with_its_actor(
    registry, db_connection, captured_changes
):
    with transaction_scope(registry) as session:
        session.info["actor_id"] = 7
        event_id = make_event(session).id
        assert captured_changes == []  # not before the commit
    [change] = captured_changes
    assert (type(change), change.id, change.event_id, change.user_id) == (
        changes.EventCreated,
        event_id,
        event_id,
        7,
    )


def test_a_rolled_back_transaction_delivers_nothing(registry, db_connection, captured_changes):
    with pytest.raises(RuntimeError), transaction_scope(registry) as session:
        make_event(session)
        raise RuntimeError("abort")
    assert captured_changes == []


def test_a_rolled_back_savepoint_drops_its_changes(registry, db_connection, captured_changes):
    with transaction_scope(registry) as session:
        event = make_event(session)
        with session.begin_nested() as savepoint:
            make_speaker(session, event, name="Gone")
            event.name = "Renamed in the savepoint"
            session.flush()
            savepoint.rollback()
        make_speaker(session, event, name="Kept")
    assert [type(c) for c in captured_changes] == [changes.EventCreated, SpeakerCreated]
    assert captured_changes[0].changes["name"] == (None, "FOSSASIA Summit")
    assert captured_changes[1].changes["name"] == (None, "Kept")


def test_flushes_merge_per_row(registry, db_connection, dbsession, owner, captured_changes):
    event = make_event(dbsession, owner=owner, name="Before")
    track = Track(event=event, name="Gone")
    dbsession.add(track)
    dbsession.flush()
    with transaction_scope(registry) as session:
        stored = session.get(Event, event.id)
        stored.name = "Middle"
        session.flush()
        stored.name = "After"
        session.flush()
        speaker = make_speaker(session, stored, name="Draft")
        speaker.name = "Final"
        session.flush()
        short_lived = make_speaker(session, stored, name="Short-lived")
        session.delete(short_lived)
        session.flush()
        doomed = session.get(Track, track.id)
        doomed.name = "Renamed"
        session.flush()
        session.delete(doomed)
    assert [type(c) for c in captured_changes] == [
        changes.EventUpdated,
        SpeakerCreated,
        TrackDeleted,
    ]
    updated, created, deleted = captured_changes
    assert updated.changes["name"] == ("Before", "After")
    assert created.changes["name"] == (None, "Final")
    assert deleted.changes["name"] == ("Gone", None)


def test_an_update_that_nets_out_is_not_delivered(
    registry, db_connection, dbsession, owner, captured_changes
):
    event = make_event(dbsession, owner=owner, name="Same")
    track = Track(event=event, name="Same")
    dbsession.add(track)
    dbsession.flush()
    with transaction_scope(registry) as session:
        stored = session.get(Track, track.id)
        stored.name = "Other"
        session.flush()
        stored.name = "Same"
    assert [type(c) for c in captured_changes] == [TrackUpdated]
    assert "name" not in captured_changes[0].changes


def test_an_attribute_assigned_while_unloaded_reports_its_stored_old_value(
    registry, db_connection, dbsession, owner, captured_changes
):
    event = make_event(dbsession, owner=owner, name="Stored")
    with transaction_scope(registry) as session:
        stored = session.get(Event, event.id)
        session.expire(stored)
        stored.name = "New"
    [change] = captured_changes
    assert change.changes["name"] == ("Stored", "New")


def test_delivery_follows_first_flush_then_kind_model_and_id(
    registry, db_connection, dbsession, owner, captured_changes
):
    event = make_event(dbsession, owner=owner)
    tracks = [Track(event=event, name=name) for name in ("First", "Deleted")]
    dbsession.add_all(tracks)
    dbsession.flush()
    with transaction_scope(registry) as session:
        session.get(Track, tracks[0].id).name = "Renamed"
        session.flush()
        stored = session.get(Event, event.id)
        talk = Session(event=stored, title="Talk")
        other_talk = Session(event=stored, title="Other talk")
        session.add_all([talk, make_speaker(session, stored), other_talk])
        session.delete(session.get(Track, tracks[1].id))
    kinds = [(type(c).__name__, c.id) for c in captured_changes]
    assert kinds[0] == ("TrackUpdated", tracks[0].id)
    assert [name for name, _ in kinds[1:]] == [
        "SpeakerCreated",
        "SessionCreated",
        "SessionCreated",
        "TrackDeleted",
    ]
    session_ids = [id for name, id in kinds if name == "SessionCreated"]
    assert session_ids == sorted(session_ids)


def test_a_session_created_with_speakers_lists_them(registry, db_connection, captured_changes):
    with transaction_scope(registry) as session:
        event = make_event(session)
        speaker = make_speaker(session, event)
        talk = make_session(session, event, speakers=[speaker], state=SessionState.ACCEPTED)
        speaker_id, talk_id = speaker.id, talk.id
    created = {type(c): c for c in captured_changes}
    assert created[SessionCreated].changes["speakers"] == ((), (speaker_id,))
    assert created[SessionCreated].changes["state"] == (None, "accepted")
    assert created[SpeakerCreated].changes["sessions"] == ((), (talk_id,))


def test_tables_other_than_public_models_are_not_reported(
    registry, db_connection, captured_changes
):
    with transaction_scope(registry) as session:
        make_user(session, password=None)
    assert captured_changes == []


def test_bulk_inserted_rows_are_delivered_as_creations_of_their_values(
    registry, db_connection, captured_changes
):
    # What an import does: its own INSERT, then the rows reported (here only reported).
    with transaction_scope(registry) as session:
        event_id = make_event(session).id
        rows = [
            {"id": 9001, "event_id": event_id, "title": "Bulk", "state": SessionState.ACCEPTED},
            {"id": 9002, "event_id": event_id, "title": "Other", "state": None},
        ]
        changes.record_insert(session, Session, rows)
        rows[0]["title"] = "changed after it was reported"
    created = [c for c in captured_changes if isinstance(c, SessionCreated)]
    assert [(c.id, c.event_id) for c in created] == [(9001, event_id), (9002, event_id)]
    assert created[0].changes == {
        "id": (None, 9001),
        "event_id": (None, event_id),
        "title": (None, "Bulk"),
        "state": (None, "accepted"),  # enums become their values, as for the ORM's rows
    }
    assert type(created[0].changes["state"][1]) is str
    assert dict(created[1].changes)["state"] == (None, None)
    with pytest.raises(TypeError):
        created[0].changes["title"] = (None, "x")
    assert created[0] == dataclasses.replace(created[0])  # comparable, and copied alike


def test_every_change_class_has_the_fields_delivery_sets():
    # Changes are made without running __init__ (an import delivers thousands): every field
    # a change class has must be one that delivery sets.
    fields = [f.name for f in dataclasses.fields(ModelChanged)]
    for kinds in changes._MODELS.values():
        for change_class in kinds.values():
            assert [f.name for f in dataclasses.fields(change_class)] == fields, change_class
