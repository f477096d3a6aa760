"""Concurrent bumps on PostgreSQL: every increment counts, with real commits."""

import os
import threading

import pytest
from alembic import command
from sqlalchemy import select

from openevent.config import configure
from openevent.db import transaction_scope
from openevent.db.migrations import alembic_config
from openevent.jobs.definitions import JobContext
from openevent.models import EventState
from openevent.testing import TEST_DATABASE_ENV, make_event
from openevent_versions.jobs import bump
from openevent_versions.models import COLLECTIONS, EventVersions


@pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_ENV),
    reason=f"needs PostgreSQL and real commits from several connections: set {TEST_DATABASE_ENV}",
)
def test_eight_workers_bumping_one_counter_lose_no_increment(app_settings, empty_database_url):
    threads, bumps = 8, 125
    config = configure({**app_settings, "sqlalchemy.url": empty_database_url})
    registry = config.registry
    engine = registry["dbengine"]
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(config.get_settings(), connection=connection), "heads")
        with transaction_scope(registry) as session:
            event_id = make_event(session, state=EventState.PUBLISHED).id
        # No counters row yet: the first bumps also race to create it.
        start = threading.Barrier(threads)
        errors: list[BaseException] = []

        def worker(number: int) -> None:
            start.wait()
            try:
                for i in range(bumps):
                    # As the worker runs the job: its own session and transaction, committed.
                    with transaction_scope(registry) as dbsession:
                        context = JobContext(dbsession, registry, f"{number}-{i}", event_id)
                        bump(context, event_id, ["sessions"])
            except BaseException as error:  # reported by the main thread
                errors.append(error)

        workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()

        assert errors == []
        with engine.connect() as connection:
            row = connection.execute(
                select(*(getattr(EventVersions, name) for name in COLLECTIONS)).where(
                    EventVersions.event_id == event_id
                )
            ).one()
        assert row._asdict() == {**dict.fromkeys(COLLECTIONS, 0), "sessions": threads * bumps}
    finally:
        engine.dispose()
