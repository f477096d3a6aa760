"""Change subscribers marked ``in_transaction``: run in the committing transaction, before its
commit, so what they enqueue or write commits (or rolls back) with the changes; and the commit
time and acting user every change carries."""

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from transaction.interfaces import NoTransaction
from zope.interface import implementedBy

from openevent import plugins
from openevent.changes import (
    ChangesCommitted,
    ModelChanged,
    SessionCreated,
    SessionUpdated,
    in_transaction,
)
from openevent.db import transaction_scope
from openevent.jobs import job
from openevent.models import EventPlugin, OutboxMessage, Session
from openevent.testing import jsonapi_document, make_event, make_session, make_user

ran = []


@job
def note_title(context, session_id, title):
    ran.append((session_id, title, context.event_id))


@pytest.fixture(autouse=True)
def _clear():
    ran.clear()


@pytest.fixture
def sample_note(sample_plugins_installed):
    """The sample plugin's model: a plugin's own table (importable once it is installed)."""
    from openevent_sample_plugin.models import SampleNote

    return SampleNote


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


@in_transaction
def enqueue_note(change):
    change.enqueue(note_title, change.id, change.changes["title"][1])


def patch_title(testapp, headers, session_id, title, status=200):
    body = jsonapi_document("session", {"title": title}, id=session_id)
    return testapp.patch_json(f"/v1/sessions/{session_id}", body, headers=headers, status=status)


def outbox_count(dbsession) -> int:
    return dbsession.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.actor_name == note_title.name)
    )


class FailingVote:
    """A data manager that makes the commit fail after the before-commit hooks (and the
    database's flush) have run: it votes no, as a second database refusing would, before
    zope.sqlalchemy's vote commits the database."""

    transaction_manager = None

    def abort(self, txn):
        pass

    def tpc_begin(self, txn):
        pass

    def commit(self, txn):
        pass

    def tpc_vote(self, txn):
        raise RuntimeError("the vote failed")

    def tpc_finish(self, txn):
        pass

    def tpc_abort(self, txn):
        pass

    def sortKey(self):
        return "!failing-vote"  # before zope.sqlalchemy's "~sqlalchemy:..."


# The two phases


def test_a_subscriber_in_the_transaction_enqueues_a_job_that_runs_after_the_commit(
    testapp, dbsession, event, headers, subscribe, run_jobs
):
    session = make_session(dbsession, event)
    subscribe(enqueue_note, SessionUpdated, attributes=("title",))
    patch_title(testapp, headers, session.id, "Opening keynote")
    assert outbox_count(dbsession) == 1
    run_jobs()  # installed plugins' jobs run too: look at this test's own
    assert ran == [(session.id, "Opening keynote", event.id)]


def test_subscribers_in_the_transaction_run_before_the_commit_the_others_after(
    dbsession, tm, event, subscribe
):
    seen = []

    @in_transaction
    def inside(change):
        # The transaction is still open, and its session sees its own changes.
        title = change.dbsession.get(Session, change.id).title
        seen.append(("inside", tm.get().status, title))

    def after(change):
        seen.append(("after", tm.get().status, change.dbsession, change.changes["title"][1]))

    subscribe(inside, SessionCreated)
    subscribe(after, SessionCreated)
    make_session(dbsession, event, title="Keynote")
    assert seen == []
    tm.commit()
    assert seen == [("inside", "Active", "Keynote"), ("after", "Committed", None, "Keynote")]


def test_a_batch_in_the_transaction_enqueues_with_it(dbsession, tm, event, subscribe, run_jobs):
    batches = []

    @in_transaction
    def per_transaction(batch):
        batches.append(batch)
        for change in batch.changes:
            if isinstance(change, SessionCreated):
                batch.enqueue(note_title, change.id, change.changes["title"][1], event_id=event_id)

    event_id = event.id
    subscribe(per_transaction, ChangesCommitted)
    ids = [make_session(dbsession, event, title=f"Talk {i}").id for i in range(3)]
    tm.commit()
    assert len(batches) == 1 and batches[0].dbsession is not None
    run_jobs()
    assert sorted(ran) == [(id, f"Talk {i}", event_id) for i, id in enumerate(ids)]


# Rollbacks take the subscribers' work with them


def test_a_rolled_back_transaction_runs_no_subscriber_and_enqueues_nothing(
    dbsession, tm, event, subscribe, broker, run_jobs
):
    calls = []
    subscribe(in_transaction(calls.append), ModelChanged)
    subscribe(in_transaction(calls.append), ChangesCommitted)
    make_session(dbsession, event)
    tm.abort()
    assert calls == []
    assert run_jobs() == 0


def test_a_failed_request_runs_no_subscriber_and_enqueues_nothing(
    testapp, dbsession, event, headers, subscribe, run_jobs
):
    session = make_session(dbsession, event)
    subscribe(enqueue_note, SessionUpdated)
    patch_title(testapp, headers, session.id, "", status=422)
    assert outbox_count(dbsession) == 0
    run_jobs()
    assert ran == []


def test_a_commit_that_fails_after_the_subscribers_drops_their_outbox_rows_and_rows(
    registry, dbsession, tm, event, subscribe, broker, run_jobs, captured_changes, sample_note
):
    event_id, session_id = event.id, make_session(dbsession, event, title="Keynote").id
    tm.commit()

    written = []

    @in_transaction
    def enqueue_and_note(change):
        enqueue_note(change)
        change.dbsession.add(sample_note(event_id=change.event_id, text="title changed"))
        change.dbsession.flush()
        written.append(outbox_count(change.dbsession))

    subscribe(enqueue_and_note, SessionUpdated)
    delivered = len(captured_changes)
    tm.begin()
    dbsession.get(Session, session_id).title = "Opening keynote"
    tm.get().join(FailingVote())
    with pytest.raises(RuntimeError, match="the vote failed"):
        tm.commit()

    # The subscriber wrote its outbox row and note in the transaction; the failed commit
    # rolled them back with the change, and nothing was delivered after it.
    assert written == [1]
    assert len(captured_changes) == delivered
    with transaction_scope(registry) as check:
        assert check.get(Session, session_id).title == "Keynote"
        assert outbox_count(check) == 0
        assert (
            check.scalars(select(sample_note).where(sample_note.event_id == event_id)).all() == []
        )
    run_jobs()  # the earlier commit's, of installed plugins
    assert ran == []


def test_a_raising_subscriber_in_the_transaction_rolls_it_back(
    testapp, dbsession, event, headers, registry, subscribe, monkeypatch, caplog, captured_changes
):
    monkeypatch.setitem(
        registry, plugins.PLUGINS_KEY, {"boom": plugins.PluginInfo("boom", "openevent_boom")}
    )
    session = make_session(dbsession, event, title="Keynote")

    @in_transaction
    def broken(change):
        change.enqueue(note_title, change.id, "never")
        raise ValueError("plugin bug")

    broken.__module__ = "openevent_boom.subscribers"
    subscribe(broken, SessionUpdated)
    with caplog.at_level(logging.ERROR, logger="openevent.changes"):
        response = patch_title(testapp, headers, session.id, "Opening keynote", status=500)
    assert response.json["errors"][0]["status"] == "500"
    record = next(r for r in caplog.records if r.name == "openevent.changes")
    assert "plugin boom" in record.getMessage()
    assert "rolled back" in record.getMessage()
    assert record.exc_info[0] is ValueError
    # Nothing of the transaction committed, and nothing was delivered after it.
    dbsession.expire_all()
    assert dbsession.get(Session, session.id).title == "Keynote"
    assert outbox_count(dbsession) == 0
    assert captured_changes == []


def test_a_raising_subscriber_leaves_no_transaction_open(dbsession, tm, event, subscribe):
    @in_transaction
    def broken(change):
        raise ValueError("plugin bug")

    subscribe(broken, SessionCreated)
    make_session(dbsession, event)
    with pytest.raises(ValueError, match="plugin bug"):
        tm.commit()
    with pytest.raises(NoTransaction):
        tm.get()  # aborted: pyramid_tm, like `with manager:`, does not abort a failed commit
    tm.begin()  # and the test's manager can begin the next one


def test_a_subscriber_in_the_transaction_may_not_change_public_models(
    registry, dbsession, tm, event, subscribe, captured_changes
):
    session_id = make_session(dbsession, event, title="Keynote").id
    tm.commit()

    @in_transaction
    def renames(change):
        change.dbsession.get(Session, change.id).subtitle = "changed by a subscriber"

    subscribe(renames, SessionUpdated, attributes=("title",))
    tm.begin()
    dbsession.get(Session, session_id).title = "Opening keynote"
    with pytest.raises(RuntimeError, match="change them in a job"):
        tm.commit()
    assert captured_changes[-1].changes["title"] == (None, "Keynote")  # the earlier commit's
    with transaction_scope(registry) as check:
        assert check.get(Session, session_id).title == "Keynote"


def test_a_subscriber_in_the_transaction_writes_rows_of_its_own_with_the_changes(
    testapp, dbsession, event, headers, subscribe, sample_note
):
    session = make_session(dbsession, event)

    @in_transaction
    def note(change):
        change.dbsession.add(sample_note(event_id=change.event_id, text=change.changes["title"][1]))

    subscribe(note, SessionUpdated, attributes=("title",))
    patch_title(testapp, headers, session.id, "Opening keynote")
    notes = dbsession.scalars(select(sample_note.text).where(sample_note.event_id == event.id))
    assert notes.all() == ["Opening keynote"]


# As today: predicates, enablement, muting


def test_in_transaction_marks_methods_and_callable_objects_through_predicates(
    dbsession, tm, event, subscribe
):
    seen = []

    class Indexer:
        def on_change(self, change):
            seen.append(("method", change.dbsession is not None))

        def __call__(self, change):
            seen.append(("object", change.dbsession is not None))

    indexer = Indexer()
    subscribe(in_transaction(indexer.on_change), SessionUpdated, attributes=("title",))
    subscribe(in_transaction(indexer), SessionUpdated, attributes=("title",))
    session_id = make_session(dbsession, event).id
    tm.commit()
    assert seen == []  # a creation is no SessionUpdated
    tm.begin()
    dbsession.get(Session, session_id).subtitle = "no title change"
    tm.commit()
    assert seen == []
    tm.begin()
    dbsession.get(Session, session_id).title = "Opening keynote"
    tm.commit()
    assert sorted(seen) == [("method", True), ("object", True)]


def test_subscribers_in_the_transaction_skip_events_their_plugin_is_disabled_for(
    dbsession, tm, owner, registry, subscribe
):
    on, off = make_event(dbsession, owner=owner).id, make_event(dbsession, owner=owner).id
    dbsession.add(EventPlugin(event_id=off, plugin="sample", enabled=False))
    tm.commit()
    calls, batches = [], []

    @in_transaction
    def per_change(change):
        calls.append(change.event_id)

    @in_transaction
    def per_transaction(batch):
        batches.append({change.event_id for change in batch.changes})

    for subscriber in (per_change, per_transaction):
        subscriber.__module__ = "openevent_sample_plugin.subscribers"
    subscribe(per_change, SessionCreated)
    subscribe(per_transaction, ChangesCommitted)
    tm.begin()
    dbsession.add_all([Session(event_id=on, title="On"), Session(event_id=off, title="Off")])
    tm.commit()
    assert calls == [on]
    assert batches == [{on}]


def test_muted_delivery_runs_no_subscriber_in_the_transaction(
    dbsession, tm, event, subscribe, mute_changes
):
    calls = []
    subscribe(in_transaction(calls.append), ModelChanged)
    make_session(dbsession, event)
    tm.commit()
    assert calls == []


# Changes say when, and who


def test_every_change_of_a_transaction_carries_its_commit_time(dbsession, tm, event, subscribe):
    event_id = event.id
    tm.commit()
    tm.begin()
    inside, after = [], []
    subscribe(in_transaction(inside.append), ModelChanged)
    subscribe(in_transaction(inside.append), ChangesCommitted)
    subscribe(after.append, ModelChanged)
    subscribe(after.append, ChangesCommitted)

    sessions = [Session(event_id=event_id, title=f"Talk {i}") for i in range(3)]
    dbsession.add_all(sessions)
    dbsession.flush()
    last_written = max(session.last_modified_at for session in sessions)
    first_id = sessions[0].id
    before = datetime.now(UTC)
    tm.commit()
    committed = datetime.now(UTC)

    assert len(inside) == len(after) == 4  # three creations, one batch
    [committed_at] = {notification.committed_at for notification in inside + after}
    assert committed_at.tzinfo is not None and committed_at.utcoffset().total_seconds() == 0
    assert last_written <= committed_at  # after the transaction's last write
    assert before <= committed_at <= committed

    tm.begin()
    dbsession.get(Session, first_id).title = "Later"
    tm.commit()
    assert after[-1].committed_at > committed_at


def test_changes_and_batches_carry_the_acting_user(
    testapp, dbsession, registry, event, owner, headers, subscribe
):
    delivered = []
    subscribe(in_transaction(delivered.append), SessionUpdated)
    subscribe(in_transaction(delivered.append), ChangesCommitted)
    subscribe(delivered.append, SessionUpdated)
    subscribe(delivered.append, ChangesCommitted)
    session = make_session(dbsession, event)
    patch_title(testapp, headers, session.id, "Opening keynote")
    assert [n.user_id for n in delivered] == [owner.id] * 4

    robot = make_user(dbsession, password=None).id
    dbsession.flush()
    delivered.clear()
    with transaction_scope(registry) as job_session:  # a script acting for a user
        job_session.info["actor_id"] = robot
        job_session.get(Session, session.id).title = "By a script"
    assert [n.user_id for n in delivered] == [robot] * 4
