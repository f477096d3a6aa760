"""Benchmark job delivery: commit-to-start latency and jobs per second, against plain Dramatiq.

    .venv/bin/python bench/jobs.py [--redis-url redis://127.0.0.1:6379/0] [--database-url URL]

Defaults: the broker at OPENEVENT_TEST_REDIS_URL (else Dramatiq's in-memory stub broker), the
PostgreSQL server at OPENEVENT_TEST_DATABASE_URL (else a temporary SQLite file).

- The app: built by ``configure()`` on that broker (Redis under a namespace of its own, deleted
  at the end), with a real worker (``run_worker``, as ``openevent worker`` runs it, 8 threads)
  in a thread of this process. A job reads a row by id in its own transaction, like a real job,
  and is enqueued through the outbox (``enqueue`` in a committed transaction).
- The floor: plain Dramatiq on the same broker (another namespace) with its default middleware,
  a worker of the same threads and poll interval in the same process, and an actor reading the
  same row in its own SQLAlchemy transaction (a plain engine on the same database), sent with
  ``actor.send``: the least any Dramatiq job that reads the database costs here. On SQLite the
  plain engine begins its transactions with ``BEGIN``, as SQLAlchemy's documentation shows for
  pysqlite, whose default would run the read outside any transaction (it begins one only
  before a write): a job reads a consistent snapshot, as on PostgreSQL.

Latency: one job at a time, from the moment the app's enqueuing transaction starts committing
(the floor's ``send``) to the moment the job's function starts. Throughput: N jobs enqueued (in
one transaction for the app), time until the last one finished. App and floor alternate, sample
by sample and round by round.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import dramatiq
import transaction
from _common import default_database_url, default_redis_url, emit, plain_engine
from alembic import command
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.orm import sessionmaker

from openevent.config import configure
from openevent.db import get_tm_session
from openevent.db.migrations import alembic_config
from openevent.jobs import BROKER_KEY, enqueue, job, run_worker
from openevent.jobs.worker import POLL_MS
from openevent.models import Event
from openevent.testing import make_event, new_database


class Tracker:
    """When each job of one kind started and finished."""

    def __init__(self):
        self.started: dict[int, float] = {}
        self.finished: list[float] = []
        self.arrived = threading.Condition()

    def run(self, number, read):
        started = time.perf_counter()
        read()
        with self.arrived:
            self.started[number] = started
            self.finished.append(time.perf_counter())
            self.arrived.notify_all()

    def wait(self, predicate, timeout=120):
        with self.arrived:
            if not self.arrived.wait_for(predicate, timeout):
                raise SystemExit("timed out waiting for jobs: is the worker running?")


APP, FLOOR = Tracker(), Tracker()
_floor_sessions: list[sessionmaker] = []


# It only reads, like the floor's, and says so (writes=False): on SQLite a job that may write
# takes the write lock for its whole transaction, one job at a time.
@job(queue_name="bench", writes=False)
def bench_job(context, number, event_id):
    APP.run(number, lambda: context.dbsession.get(Event, event_id))


def floor_job(number, event_id):
    def read():
        with _floor_sessions[0]() as session, session.begin():
            session.get(Event, event_id)

    FLOOR.run(number, read)


def _pool_options(url: str, config) -> dict:
    # As openevent.db.get_engine sizes its pool (the benchmark's SQLite is a file).
    return {"pool_size": config.get_settings()["openevent.db.pool_size"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default=default_redis_url(), help="default: stub broker")
    parser.add_argument("--database-url", default=default_database_url())
    parser.add_argument("--samples", type=int, default=100, help="latency samples each (100)")
    parser.add_argument("--jobs", type=int, default=1000, help="jobs per throughput round")
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds each (5)")
    parser.add_argument("--threads", type=int, default=8, help="worker threads (8)")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="openevent-bench-") as workdir,
        new_database(args.database_url, Path(workdir) / "bench.sqlite") as url,
    ):
        return _bench(args, url)


def _bench(args, url: str) -> int:
    namespace = f"openevent-bench-{secrets.token_hex(4)}"
    broker_url = args.redis_url or "stub"
    config = configure(
        {
            "sqlalchemy.url": url,
            "openevent.secret": "benchmark-secret-not-for-production",
            "openevent.broker_url": broker_url,
            "openevent.jobs.redis_namespace": namespace,
            "openevent.storage": "memory",
        }
    )
    registry = config.registry
    with registry["dbengine"].begin() as connection:
        command.upgrade(alembic_config(config.get_settings(), connection=connection), "heads")
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        event_id = make_event(get_tm_session(registry["dbsession_factory"], manager)).id

    # The same pool as the app's (openevent.db.pool_size), so that neither opens connections.
    floor_engine = plain_engine(url, **_pool_options(url, config))
    _floor_sessions[:] = [sessionmaker(bind=floor_engine)]
    if args.redis_url:
        from dramatiq.brokers.redis import RedisBroker

        floor_broker = RedisBroker(url=args.redis_url, namespace=f"{namespace}-floor")
    else:
        floor_broker = StubBroker()
    floor_actor = dramatiq.Actor(
        floor_job,
        broker=floor_broker,
        actor_name="floor_job",
        queue_name="bench-floor",
        priority=0,
        options={},
    )
    floor_worker = dramatiq.Worker(
        floor_broker, worker_threads=args.threads, worker_timeout=POLL_MS
    )
    floor_worker.start()

    stop, ready = threading.Event(), threading.Event()
    worker = threading.Thread(
        target=run_worker,
        args=(registry, stop),
        kwargs={"threads": args.threads, "queues": ["bench"], "started": ready},
    )
    worker.start()
    ready.wait()

    def app_send(numbers):
        with manager:
            dbsession = get_tm_session(registry["dbsession_factory"], manager)
            for number in numbers:
                enqueue(dbsession, bench_job, number, event_id)
            return time.perf_counter()  # the commit starts when the block ends

    def floor_send(numbers):
        sent = time.perf_counter()
        for number in numbers:
            floor_actor.send(number, event_id)
        return sent

    kinds = (("app", APP, app_send), ("floor", FLOOR, floor_send))
    latencies = {"app": [], "floor": []}
    rates = {"app": [], "floor": []}
    try:
        number = 0
        for _ in range(5):  # warm up both
            for _, tracker, send in kinds:
                send([number])
                tracker.wait(lambda n=number, t=tracker: n in t.started)
                number += 1
        for _ in range(args.samples):
            for name, tracker, send in kinds:
                committing = send([number])
                tracker.wait(lambda n=number, t=tracker: n in t.started)
                latencies[name].append((tracker.started[number] - committing) * 1000)
                number += 1
        for _ in range(args.rounds):
            for name, tracker, send in kinds:
                tracker.finished.clear()
                begin = time.perf_counter()
                send(range(number, number + args.jobs))
                number += args.jobs
                tracker.wait(lambda t=tracker: len(t.finished) >= args.jobs, timeout=600)
                rates[name].append(args.jobs / (tracker.finished[-1] - begin))
    finally:
        stop.set()
        worker.join()
        floor_worker.stop()
        for broker in (registry[BROKER_KEY], floor_broker):
            client = getattr(broker, "client", None)
            if client is not None:
                keys = list(client.scan_iter(f"{namespace}*"))
                if keys:
                    client.delete(*keys)
        registry["dbengine"].dispose()
        floor_engine.dispose()

    database = floor_engine.dialect.name
    broker_name = "redis" if args.redis_url else "stub"
    print(f"broker: {broker_name}, database: {database}, worker threads: {args.threads}")
    for name in ("app", "floor"):
        values = sorted(latencies[name])
        print(
            f"{name:5} commit -> job start over {len(values)} jobs: median"
            f" {statistics.median(values):.1f} ms, p95 {values[int(len(values) * 0.95) - 1]:.1f}"
            f" ms; throughput {statistics.median(rates[name]):.0f} jobs/s (median of"
            f" {len(rates[name])} rounds of {args.jobs}: "
            + ", ".join(f"{r:.0f}" for r in rates[name])
            + ")"
        )
    where = f"{database}+{broker_name}"
    emit(
        "jobs: throughput",
        unit="jobs/s",
        app=statistics.median(rates["app"]),
        floor=statistics.median(rates["floor"]),
        goal=1 / 0.7,
        higher_is_better=True,
        database=where,
    )
    emit(
        "jobs: commit-to-start latency",
        unit="ms",
        app=statistics.median(latencies["app"]),
        floor=statistics.median(latencies["floor"]),
        database=where,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
