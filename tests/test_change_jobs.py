"""Changes that start jobs: ``change.enqueue`` and the per-transaction ``ChangesCommitted``."""

import pytest
from sqlalchemy import select

from openevent.changes import ChangesCommitted, SessionChanged, SessionUpdated, in_transaction
from openevent.jobs import job
from openevent.models import Session
from openevent.testing import jsonapi_document, make_event, make_session

ran = []


@job
def note_title(context, session_id):
    session = context.dbsession.get(Session, session_id)
    ran.append(None if session is None else (session.title, context.event_id))


@pytest.fixture(autouse=True)
def _clear():
    ran.clear()


@pytest.fixture
def subscribe(registry):
    """``subscribe(handler, change_class)`` for the duration of the test."""
    added = []

    def _subscribe(handler, change_class):
        registry.registerHandler(handler, (change_class,))
        added.append((handler, change_class))

    yield _subscribe
    for handler, change_class in added:
        registry.unregisterHandler(handler, (change_class,))


def test_a_subscriber_starts_a_job_that_sees_the_committed_row(
    testapp, dbsession, event, headers, subscribe, run_jobs
):
    session = make_session(dbsession, event, title="Keynote")
    subscribe(in_transaction(lambda change: change.enqueue(note_title, change.id)), SessionUpdated)
    body = jsonapi_document("session", {"title": "Opening keynote"}, id=session.id)
    testapp.patch_json(f"/v1/sessions/{session.id}", body, headers=headers, status=200)
    run_jobs()  # installed plugins' jobs run too: count this test's own
    assert ran == [("Opening keynote", event.id)]


def test_a_subscriber_after_the_commit_still_starts_a_job_but_is_warned(
    testapp, dbsession, event, headers, subscribe, run_jobs
):
    session = make_session(dbsession, event, title="Keynote")
    subscribe(lambda change: change.enqueue(note_title, change.id), SessionUpdated)
    body = jsonapi_document("session", {"title": "Opening keynote"}, id=session.id)
    with pytest.warns(DeprecationWarning, match="in_transaction"):
        testapp.patch_json(f"/v1/sessions/{session.id}", body, headers=headers, status=200)
    run_jobs()
    assert ran == [("Opening keynote", event.id)]


def test_a_failed_request_starts_no_job(testapp, dbsession, event, headers, subscribe, run_jobs):
    session = make_session(dbsession, event)
    subscribe(in_transaction(lambda change: change.enqueue(note_title, change.id)), SessionChanged)
    body = jsonapi_document("session", {"title": ""}, id=session.id)
    testapp.patch_json(f"/v1/sessions/{session.id}", body, headers=headers, status=422)
    assert run_jobs() == 0
    assert ran == []


def test_one_transaction_is_one_batch(dbsession, tm, event, subscribe):
    batches = []
    subscribe(batches.append, ChangesCommitted)
    ids = {make_session(dbsession, event, title=f"Talk {i}").id for i in range(10)}
    tm.commit()  # closes the session: keep ids, not rows, across commits
    tm.begin()
    for session in dbsession.scalars(select(Session)):
        session.title = session.title + "!"
    tm.commit()
    assert len(batches) == 2
    assert [c.kind for c in batches[1].changes] == ["updated"] * 10
    assert {c.id for c in batches[1].changes} == ids


def test_a_rolled_back_transaction_is_no_batch(dbsession, tm, event, subscribe):
    batches = []
    subscribe(batches.append, ChangesCommitted)
    make_session(dbsession, event)
    tm.abort()
    assert batches == []


def test_a_batch_leaves_out_events_the_plugin_is_disabled_for(
    dbsession, tm, owner, subscribe, monkeypatch
):
    from openevent import changes as changes_module

    on = make_event(dbsession, owner=owner).id
    off = make_event(dbsession, owner=owner).id
    tm.commit()
    tm.begin()
    batches = []

    def plugin_handler(batch):
        batches.append(batch)

    monkeypatch.setattr(changes_module.plugins, "plugin_of", lambda registry, obj: "sample")
    monkeypatch.setattr(
        changes_module.plugins,
        "is_enabled_for_event",
        lambda dbsession, plugin, event_id: event_id == on,
    )
    subscribe(plugin_handler, ChangesCommitted)
    dbsession.add_all([Session(event_id=on, title="On"), Session(event_id=off, title="Off")])
    tm.commit()
    assert [{c.event_id for c in batch.changes} for batch in batches] == [{on}]
