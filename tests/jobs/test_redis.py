"""Delivery through a real Redis (OPENEVENT_TEST_REDIS_URL); skipped without one."""

import threading
import time

import dramatiq
import transaction
from sqlalchemy import select

from openevent.db import get_tm_session, transaction_scope
from openevent.jobs import BROKER_KEY, declare_known_jobs, enqueue, job
from openevent.models import Event, OutboxMessage
from openevent.testing import make_event

delivered = []
done = threading.Event()


@job(queue_name="redis-test")
def note_delivery(context, event_id):
    event = context.dbsession.get(Event, event_id)
    delivered.append((context.message_id, event.name if event else None))
    done.set()


def test_a_committed_change_is_delivered_through_redis_exactly_once(redis_registry):
    declare_known_jobs(redis_registry)
    broker = redis_registry[BROKER_KEY]
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(redis_registry["dbsession_factory"], manager)
        event_id = make_event(dbsession, name="Redis Summit").id
        message_id = enqueue(dbsession, note_delivery, event_id, event_id=event_id)

    worker = dramatiq.Worker(broker, queues={"redis-test"}, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        assert done.wait(10), "the job never ran"
        time.sleep(0.5)  # room for a duplicate to show up
    finally:
        worker.stop()

    assert delivered == [(message_id, "Redis Summit")]
    with transaction_scope(redis_registry) as session:
        # Installed plugins (openevent-versions) enqueue jobs of their own with the change.
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.actor_name == note_delivery.name)
        ).one()
        assert row.message_id == message_id
        assert row.sent_at is not None
    # Acknowledged: nothing left in the queue or waiting for acknowledgement.
    namespace = redis_registry.settings["openevent.jobs.redis_namespace"]
    assert broker.client.llen(f"{namespace}:redis-test") == 0
    assert broker.client.hlen(f"{namespace}:redis-test.msgs") == 0
