"""Counting deliveries: a message started too often without finishing is failed, not run again.

The stub broker cannot kill a worker; delivering the same message (same id, same retry count)
again is what the broker does after a worker died, so these tests enqueue it again.
tests/jobs/test_killed_worker.py kills real workers on Redis.
"""

import threading

import dramatiq
import pytest
import transaction
from sqlalchemy import select

from openevent.db import get_tm_session, transaction_scope, utcnow
from openevent.jobs import actor_for, enqueue, job
from openevent.jobs.bookkeeping import bookkeeping_writer
from openevent.jobs.broker import WorkerDied
from openevent.models import JobDelivery, JobFailure, OutboxMessage

runs = []


@job(max_retries=1)
def counted(context, number):
    runs.append(number)


failures_left = []


@job(max_retries=2, min_backoff=10, max_backoff=20)
def fails_then_works(context, number):
    runs.append(number)
    if failures_left:
        failures_left.pop()
        raise RuntimeError("not yet")


@pytest.fixture(autouse=True)
def _clear_runs():
    runs.clear()
    failures_left.clear()


def _enqueue_committed(registry, job_, *args):
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        return enqueue(get_tm_session(registry["dbsession_factory"], manager), job_, *args)


def _outbox_row(registry, message_id) -> tuple[int, dramatiq.Message]:
    """How many times the message was delivered, and the message."""
    with transaction_scope(registry) as dbsession:
        row = dbsession.scalars(
            select(OutboxMessage).where(OutboxMessage.message_id == message_id)
        ).one()
        deliveries = dbsession.get(JobDelivery, message_id)
        return (deliveries.deliveries if deliveries else 0), dramatiq.Message.decode(row.message)


def _failures(registry) -> list[JobFailure]:
    with transaction_scope(registry) as dbsession:
        failures = dbsession.scalars(select(JobFailure)).all()
        dbsession.expunge_all()
        return failures


def test_each_delivery_costs_one_update_and_is_counted(
    registry, broker, run_jobs, count_statements
):
    message_id = _enqueue_committed(registry, counted, 1)
    with count_statements() as statements:
        assert run_jobs() == 1
    counting = [s for s in statements if "job_deliveries" in s]
    assert len(counting) == 1
    assert counting[0].lstrip().upper().startswith("INSERT INTO JOB_DELIVERIES")
    assert "ON CONFLICT" in counting[0].upper() and "RETURNING" in counting[0].upper()
    assert _outbox_row(registry, message_id)[0] == 1
    assert runs == [1]


def test_a_message_delivered_again_and_again_is_failed_after_its_last_retry(
    registry, broker, run_jobs
):
    message_id = _enqueue_committed(registry, counted, 2)
    _, message = _outbox_row(registry, message_id)
    # As after two dead workers: the same message, its retry count unchanged.
    broker.enqueue(message)
    broker.enqueue(message)

    # max_retries=1: two deliveries run, the third is not.
    assert run_jobs(fail_fast=False) == 3
    assert runs == [2, 2]
    assert _outbox_row(registry, message_id)[0] == 3
    [failure] = _failures(registry)
    assert failure.message_id == message_id
    assert failure.actor_name.endswith("counted")
    assert failure.attempts == 2
    assert failure.error == (
        "worker died 2 times while running this job (2 deliveries, 0 retried after an error)"
    )
    assert '"args": [2]' in failure.args
    assert dramatiq.Message.decode(failure.message).message_id == message_id
    assert [m.message_id for m in broker.dead_letters] == [message_id]

    # Delivered once more (the skipping worker died before acknowledging): skipped, recorded once.
    broker.enqueue(message)
    with pytest.raises(WorkerDied, match="worker died 3 times"):
        run_jobs()
    assert runs == [2, 2]
    assert len(_failures(registry)) == 1


def test_retries_after_errors_count_as_deliveries(registry, broker, run_jobs):
    failures_left.extend([True, True])  # fails twice, works on its last retry (max_retries=2)
    message_id = _enqueue_committed(registry, fails_then_works, 3)
    assert run_jobs() == 3
    assert runs == [3, 3, 3]
    assert _outbox_row(registry, message_id)[0] == 3
    assert _failures(registry) == []


def test_a_death_and_errors_share_the_retry_budget(registry, broker, run_jobs):
    failures_left.extend([True, True, True])  # would fail on every attempt (max_retries=2)
    message_id = _enqueue_committed(registry, fails_then_works, 4)
    with transaction_scope(registry) as dbsession:  # as if a worker had died running it
        dbsession.add(JobDelivery(message_id=message_id, deliveries=1, last_delivered_at=utcnow()))

    # The delivery after the death and the first retry run and fail; the second retry would
    # be the fourth delivery: over the budget of three.
    assert run_jobs(fail_fast=False) == 3
    assert runs == [4, 4]
    [failure] = _failures(registry)
    assert failure.error == (
        "worker died 1 time while running this job (3 deliveries, 2 retried after an error)"
    )
    assert failure.attempts == 3
    assert "RuntimeError: not yet" in failure.traceback  # the last error's, kept by Retries
    assert [m.message_id for m in broker.dead_letters] == [message_id]


def test_a_message_sent_past_the_outbox_is_counted_too(registry, broker, run_jobs):
    actor = actor_for(registry, counted)
    message = actor.send(5)  # straight to the broker, as an operator's script might
    broker.enqueue(message)
    broker.enqueue(message)
    assert run_jobs(fail_fast=False) == 3
    assert runs == [5, 5]  # max_retries=1: the third delivery is not run
    [failure] = _failures(registry)
    assert failure.message_id == message.message_id


def test_a_delivery_that_cannot_be_counted_does_not_run_and_is_retried(
    registry, broker, run_jobs, monkeypatch
):
    """Dramatiq runs a job whose middleware failed all the same; an uncounted delivery must not
    run (its worker could die uncounted), so it fails this attempt and is retried."""
    import openevent.jobs.bookkeeping as bookkeeping

    real_count = bookkeeping._count
    broken = [True]

    def count_once_broken(connection, message_ids):
        if message_ids and broken:  # a delivery's count, not the enqueuer's sent mark
            broken.pop()
            raise RuntimeError("database unavailable")
        return real_count(connection, message_ids)

    monkeypatch.setattr(bookkeeping, "_count", count_once_broken)
    message_id = _enqueue_committed(registry, fails_then_works, 6)  # retried after 10-20 ms
    run_jobs()
    assert runs == [6]  # not run uncounted, run once counted
    assert _outbox_row(registry, message_id)[0] == 1
    assert _failures(registry) == []


def test_a_count_handed_over_while_a_batch_takes_the_queue_is_written_too(registry, db_connection):
    writer = bookkeeping_writer(registry)
    # count_delivery names the queue before it takes the lock; a batch takes it meanwhile.
    queue = writer._deliveries
    writer._take()
    counted = []
    thread = threading.Thread(
        target=lambda: counted.append(writer._submit(queue, "late")), daemon=True
    )
    thread.start()
    thread.join(10)  # a count left in a list already taken would never be written

    assert counted == [1]
