"""The whole path on a real Redis broker and a Dramatiq worker (OPENEVENT_TEST_REDIS_URL; with
OPENEVENT_TEST_DATABASE_URL, on PostgreSQL): skipped without Redis."""

import time

import dramatiq
import transaction
from pictures import detailed, jpeg

from openevent.db import get_tm_session, transaction_scope
from openevent.jobs import BROKER_KEY, declare_known_jobs
from openevent.models import Event
from openevent.storage import STORAGE_KEY
from openevent.testing import make_event
from openevent_images.keys import new_token, original_key


def test_an_image_set_in_one_process_is_resized_by_a_worker(redis_registry):
    declare_known_jobs(redis_registry)
    storage = redis_registry[STORAGE_KEY]
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(redis_registry["dbsession_factory"], manager)
        event = make_event(dbsession)
        key = original_key(event.id, new_token(), "jpg")
        storage.put(key, jpeg(detailed(2000, 1000)), "image/jpeg", public=True)
        event.original_image_url = "https://events.example.org" + storage.url(key)
        event_id = event.id

    worker = dramatiq.Worker(redis_registry[BROKER_KEY], queues={"images"}, worker_threads=1)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        large = None
        while large is None and time.monotonic() < deadline:
            time.sleep(0.2)
            with transaction_scope(redis_registry) as session:
                large = session.get(Event, event_id).large_image_url
    finally:
        worker.stop()
    assert large is not None, "the job never ran"
    assert large.startswith("https://events.example.org/files/")
    stored = storage.stat(large.removeprefix("https://events.example.org/files/"))
    assert stored.content_type == "image/jpeg" and stored.public
