import time
from itertools import pairwise

import pytest
import transaction
from sqlalchemy import select

from openevent.db import get_tm_session, transaction_scope
from openevent.jobs import enqueue, job
from openevent.models import JobFailure

attempts = []


@job(max_retries=2, min_backoff=20, max_backoff=100)
def always_fails(context, ticket_id):
    attempts.append(time.monotonic())
    raise RuntimeError(f"printer on fire for ticket {ticket_id}")


@pytest.fixture(autouse=True)
def _clear_attempts():
    attempts.clear()


def _enqueue_committed(registry, job_, *args):
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        return enqueue(get_tm_session(registry["dbsession_factory"], manager), job_, *args)


def test_a_failing_job_is_retried_with_backoff_then_recorded(registry, broker, run_jobs):
    message_id = _enqueue_committed(registry, always_fails, 7)

    assert run_jobs(fail_fast=False) == 3  # the first attempt and two retries
    assert len(attempts) == 3
    gaps = [later - earlier for earlier, later in pairwise(attempts)]
    assert all(gap >= 0.01 for gap in gaps)  # backoff, not an immediate redelivery
    with transaction_scope(registry) as dbsession:
        failure = dbsession.scalars(select(JobFailure)).one()
        assert failure.message_id == message_id
        assert failure.actor_name.endswith("always_fails")
        assert failure.queue_name == "default"
        assert failure.attempts == 3
        assert failure.error == "RuntimeError: printer on fire for ticket 7"
        assert "printer on fire" in failure.traceback
        assert '"args": [7]' in failure.args
    # Dramatiq's own dead letters hold it too.
    assert [message.message_id for message in broker.dead_letters] == [message_id]


def test_run_jobs_surfaces_the_failure(registry, broker, run_jobs):
    _enqueue_committed(registry, always_fails, 8)
    with pytest.raises(RuntimeError, match="ticket 8"):
        run_jobs()
