from datetime import timedelta

import dramatiq
import pytest
import transaction
from pyramid.request import Request, apply_request_extensions
from sqlalchemy import func, select

from openevent.db import get_tm_session, transaction_scope, utcnow
from openevent.jobs import enqueue, job, relay_outbox
from openevent.models import Event, OutboxMessage
from openevent.testing import make_event

# These tests count the messages they enqueue: no change delivery, so no plugin (the
# first-party versions plugin, say) adds jobs of its own for the rows they write.
pytestmark = pytest.mark.usefixtures("mute_changes")

seen = []


@job
def record_event_name(context, event_id):
    event = context.dbsession.get(Event, event_id)
    if event is None:
        return  # deleted since: nothing to do
    seen.append(
        {
            "name": event.name,
            "event_id": context.event_id,
            "actor_id": context.dbsession.info["actor_id"],
            "message_id": context.message_id,
        }
    )


@pytest.fixture(autouse=True)
def _clear_seen():
    seen.clear()


def _committed(registry, work):
    """Run ``work(session)`` in a transaction of its own, as a request would, and commit."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        return work(get_tm_session(registry["dbsession_factory"], manager))


def _outbox(registry):
    with transaction_scope(registry) as dbsession:
        return [
            (row.message_id, row.sent_at is not None)
            for row in dbsession.scalars(select(OutboxMessage))
        ]


def test_request_enqueue_is_sent_after_commit_and_the_job_sees_the_data(registry, broker, run_jobs):
    request = Request.blank("/")
    request.registry = registry
    apply_request_extensions(request)
    with request.tm:
        event_id = make_event(request.dbsession, name="PyCon").id
        message_id = request.enqueue(record_event_name, event_id, event_id=event_id)
        # Held back until the commit.
        assert broker.queues["default"].qsize() == 0

    assert broker.queues["default"].qsize() == 1
    assert _outbox(registry) == [(message_id, True)]
    assert run_jobs() == 1
    assert seen == [
        {"name": "PyCon", "event_id": event_id, "actor_id": None, "message_id": message_id}
    ]


def test_rolled_back_enqueue_sends_nothing(registry, broker, run_jobs):
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    dbsession = get_tm_session(registry["dbsession_factory"], manager)
    event = make_event(dbsession)
    enqueue(dbsession, record_event_name, event.id)
    manager.abort()

    assert broker.queues["default"].qsize() == 0
    assert _outbox(registry) == []
    assert run_jobs() == 0
    assert seen == []


def test_arguments_that_are_not_json_raise_at_the_call_site(registry, dbsession):
    with pytest.raises(TypeError):
        enqueue(dbsession, record_event_name, object())
    assert dbsession.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_broker_down_at_commit_leaves_the_message_for_the_relay(
    registry, broker, run_jobs, monkeypatch
):
    def _down(message, *, delay=None):
        raise ConnectionError("broker down")

    with monkeypatch.context() as patch:
        patch.setattr(broker, "enqueue", _down)
        event = _committed(registry, lambda s: make_event(s, name="Offline").id)
        message_id = _committed(registry, lambda s: enqueue(s, record_event_name, event))
        assert _outbox(registry) == [(message_id, False)]
        # Still down: the relay keeps the row for its next round.
        assert relay_outbox(registry, grace=timedelta(0)) == 0

    assert run_jobs() == 0
    # Within the grace period the after-commit send may still be under way: left alone.
    assert relay_outbox(registry) == 0
    assert relay_outbox(registry, grace=timedelta(0)) == 1
    assert _outbox(registry) == [(message_id, True)]
    assert run_jobs() == 1
    assert [entry["name"] for entry in seen] == ["Offline"]


def test_a_job_for_a_missing_row_does_nothing(registry, broker, run_jobs):
    _committed(registry, lambda s: enqueue(s, record_event_name, 987654321))
    assert run_jobs() == 1
    assert seen == []


def test_a_job_whose_plugin_is_disabled_for_the_event_is_skipped(
    registry, broker, run_jobs, monkeypatch
):
    checks = []

    def _disabled(dbsession, plugin, event_id):
        checks.append((plugin, event_id))
        return False

    monkeypatch.setattr("openevent.jobs.outbox.plugin_of", lambda registry, obj: "badges")
    monkeypatch.setattr("openevent.jobs.broker.is_enabled_for_event", _disabled)
    event = _committed(registry, lambda s: make_event(s).id)
    _committed(registry, lambda s: enqueue(s, record_event_name, event, event_id=event))

    assert _outbox_plugins(registry) == [("badges", event)]
    assert run_jobs() == 1
    assert checks == [("badges", event)]
    assert seen == []


def _outbox_plugins(registry):
    with transaction_scope(registry) as dbsession:
        return [(row.plugin, row.event_id) for row in dbsession.scalars(select(OutboxMessage))]


def test_a_job_can_enqueue_a_follow_up(registry, broker, run_jobs):
    @job
    def first(context, event_id):
        context.enqueue(record_event_name, event_id)

    event = _committed(registry, lambda s: make_event(s, name="Chained").id)
    _committed(registry, lambda s: enqueue(s, first, event))
    assert run_jobs() == 2
    assert [entry["name"] for entry in seen] == ["Chained"]


def test_the_rows_a_transaction_enqueues_are_written_in_one_statement(
    registry, broker, count_statements
):
    with count_statements() as statements:
        _committed(
            registry, lambda s: [enqueue(s, record_event_name, number) for number in range(3)]
        )

    assert [s for s in statements if "outbox" in s and s.lstrip().startswith("INSERT")] == [
        statements[0]
    ]
    assert len(_outbox(registry)) == 3
    assert broker.queues["default"].qsize() == 3


def test_many_enqueued_rows_are_written_500_to_a_statement_with_their_values(
    registry, broker, count_statements
):
    before = utcnow()
    with count_statements() as statements:
        ids = _committed(
            registry,
            lambda s: [enqueue(s, record_event_name, n, event_id=n) for n in range(1201)],
        )

    inserts = [s for s in statements if "outbox" in s and s.lstrip().startswith("INSERT")]
    assert len(inserts) == 3  # 500, 500 and 201 rows
    with transaction_scope(registry) as dbsession:
        rows = {row.message_id: row for row in dbsession.scalars(select(OutboxMessage))}
        assert set(rows) == set(ids)
        for number, message_id in enumerate(ids):
            row = rows[message_id]
            message = dramatiq.Message.decode(row.message)
            assert (message.message_id, list(message.args), row.event_id) == (
                message_id,
                [number],
                number,
            )
            assert (row.queue_name, row.actor_name) == (message.queue_name, message.actor_name)
            assert row.plugin is None and row.sent_at is not None  # sent after the commit
            assert row.created_at.tzinfo is not None and before <= row.created_at <= utcnow()
    assert broker.queues["default"].qsize() == 1201


def test_an_enqueued_row_is_in_the_transaction_after_its_sessions_next_flush(registry, dbsession):
    enqueue(dbsession, record_event_name, 1)
    make_event(dbsession)
    dbsession.flush()

    assert dbsession.scalar(select(func.count()).select_from(OutboxMessage)) == 1


@pytest.mark.parametrize("flushed", [False, True], ids=["unflushed", "flushed"])
def test_what_a_rolled_back_savepoint_enqueued_is_never_sent(registry, broker, run_jobs, flushed):
    def work(dbsession):
        kept = make_event(dbsession, name="Kept")
        enqueue(dbsession, record_event_name, kept.id)
        with pytest.raises(RuntimeError), dbsession.begin_nested():
            dropped = make_event(dbsession, name="Dropped")
            enqueue(dbsession, record_event_name, dropped.id)
            if flushed:
                dbsession.flush()
            raise RuntimeError("this part fails")
        with dbsession.begin_nested():  # a savepoint that holds: its job goes out
            enqueue(dbsession, record_event_name, kept.id)
        return kept.id

    _committed(registry, work)

    assert len(_outbox(registry)) == 2
    assert broker.queues["default"].qsize() == 2
    assert run_jobs() == 2
    assert [s["name"] for s in seen] == ["Kept", "Kept"]
