"""The bookkeeping writer on a SQLite file: each statement commits on its own while the writer
holds the process's write turn, and many threads handing over writes at once each get their own
outcome.

An app of the test's own on a file of its own (also when the suite runs on PostgreSQL): the
per-test rolled-back connection of the other tests takes another path (one transaction).
"""

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from sqlalchemy import select

from openevent.config import configure
from openevent.db import sqlite, transaction_scope, utcnow
from openevent.db.migrations import alembic_config
from openevent.jobs import bookkeeping
from openevent.jobs.bookkeeping import bookkeeping_writer
from openevent.models import JobDelivery


@pytest.fixture
def file_registry(app_settings, tmp_path):
    config = configure({**app_settings, "sqlalchemy.url": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    with config.registry["dbengine"].begin() as connection:
        command.upgrade(alembic_config(config.get_settings(), connection=connection), "heads")
    yield config.registry
    bookkeeping_writer(config.registry)._close()
    config.registry["dbengine"].dispose()


def _deliveries(path) -> dict[str, int]:
    """As another process sees them: committed."""
    with sqlite3.connect(path) as connection:
        return dict(connection.execute("SELECT message_id, deliveries FROM job_deliveries"))


def test_a_count_is_committed_before_it_returns(file_registry, tmp_path):
    writer = bookkeeping_writer(file_registry)
    assert writer.count_delivery("m1") == 1
    assert _deliveries(tmp_path / "db.sqlite") == {"m1": 1}
    assert writer.count_delivery("m1") == 2
    assert _deliveries(tmp_path / "db.sqlite") == {"m1": 2}


def test_a_failed_count_writes_nothing_and_passes_the_write_turn_on(
    file_registry, tmp_path, monkeypatch
):
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 500)  # a turn never passed on: fails fast
    writer = bookkeeping_writer(file_registry)
    real_count = bookkeeping._count

    def broken(connection, message_ids):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bookkeeping, "_count", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        writer.count_delivery("m1")
    assert _deliveries(tmp_path / "db.sqlite") == {}

    # The write turn was given back: a writer of the process gets it, and so does the next
    # batch, on a new connection.
    with transaction_scope(file_registry) as dbsession:
        dbsession.add(JobDelivery(message_id="other", deliveries=5, last_delivered_at=utcnow()))
    monkeypatch.setattr(bookkeeping, "_count", real_count)
    assert writer.count_delivery("m1") == 1
    assert _deliveries(tmp_path / "db.sqlite") == {"other": 5, "m1": 1}


def test_a_statement_failing_on_its_last_row_counts_none_of_its_rows(
    file_registry, tmp_path, monkeypatch
):
    """No transaction is begun around the upsert: being one statement, it commits or fails
    as a whole."""
    writer = bookkeeping_writer(file_registry)
    writer.count_delivery("a")
    writer.count_delivery("b")
    # The second row ("b", in the order written) breaks the NOT NULL constraint.
    monkeypatch.setattr(
        bookkeeping,
        "_COUNT_SQL",
        bookkeeping._COUNT_SQL.replace(
            "deliveries = job_deliveries.deliveries + excluded.deliveries",
            "deliveries = CASE WHEN job_deliveries.message_id = 'b' THEN NULL"
            " ELSE job_deliveries.deliveries + excluded.deliveries END",
        ),
    )
    waiters = [bookkeeping._Waiter("a"), bookkeeping._Waiter("b")]
    writer._deliveries.extend(waiters)
    with pytest.raises(Exception, match="NOT NULL"):
        writer._write_batch()
    for waiter in waiters:
        with pytest.raises(Exception, match="NOT NULL"):
            waiter.outcome()
    assert _deliveries(tmp_path / "db.sqlite") == {"a": 1, "b": 1}


def test_threads_counting_together_each_get_their_own_count(file_registry, tmp_path):
    writer = bookkeeping_writer(file_registry)
    threads, rounds = 8, 40
    start = threading.Barrier(threads)

    def work(number):
        start.wait()
        # Every thread counts the shared message and one of its own.
        return [
            (writer.count_delivery("shared"), writer.count_delivery(f"own-{number}"))
            for _ in range(rounds)
        ]

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(work, range(threads)))

    shared = sorted(s for result in results for s, _ in result)
    assert shared == list(range(1, threads * rounds + 1))  # each count once, none lost
    for result in results:
        assert [own for _, own in result] == list(range(1, rounds + 1))
    assert writer.batches < 2 * threads * rounds  # written together, not one by one
    counted = _deliveries(tmp_path / "db.sqlite")
    assert counted["shared"] == threads * rounds
    with transaction_scope(file_registry, writes=False) as dbsession:
        assert (
            dbsession.scalar(
                select(JobDelivery.deliveries).where(JobDelivery.message_id == "own-0")
            )
            == rounds
        )
