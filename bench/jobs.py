"""Benchmark job delivery through Redis: commit-to-start latency and jobs per second.

    python bench/jobs.py --redis-url redis://127.0.0.1:6379/0 [--database-url URL]

The app is built by ``configure()`` with the Redis broker (under a namespace of its own,
deleted at the end) and a real Dramatiq worker (``run_worker``, as ``openevent worker`` runs
it) in a thread of this process. Latency: one job at a time, from the moment the enqueuing
transaction starts committing to the moment the job's function starts (its own transaction
open). Throughput: N jobs committed in one transaction, time until the last one finished.
Each job reads a row by id in its own transaction, like a real job.
"""

import argparse
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import transaction
from alembic import command

from openevent.config import configure
from openevent.db import get_tm_session
from openevent.db.migrations import alembic_config
from openevent.jobs import BROKER_KEY, enqueue, job, run_worker
from openevent.models import Event
from openevent.testing import make_event, new_database

_started: dict[int, float] = {}
_finished: list[float] = []
_arrived = threading.Condition()


@job(queue_name="bench")
def bench_job(context, number, event_id):
    started = time.perf_counter()
    context.dbsession.get(Event, event_id)
    with _arrived:
        _started[number] = started
        _finished.append(time.perf_counter())
        _arrived.notify_all()


def _wait(predicate, timeout=60):
    with _arrived:
        if not _arrived.wait_for(predicate, timeout):
            raise SystemExit("timed out waiting for jobs: is the worker running?")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", help="e.g. redis://127.0.0.1:6379/0 (required)")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--samples", type=int, default=200, help="latency samples (200)")
    parser.add_argument("--jobs", type=int, default=2000, help="jobs for throughput (2000)")
    parser.add_argument("--threads", type=int, default=8, help="worker threads (8)")
    args = parser.parse_args(argv)
    if not args.redis_url:
        print(
            "bench/jobs.py measures delivery through a real Redis broker; give --redis-url "
            "(e.g. redis://127.0.0.1:6379/0). Nothing to measure with the stub broker.",
            file=sys.stderr,
        )
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="openevent-bench-"))
    with new_database(args.database_url, workdir / "bench.sqlite") as url:
        return _bench(args, url)


def _bench(args, url: str) -> int:
    namespace = f"openevent-bench-{secrets.token_hex(4)}"
    config = configure(
        {
            "sqlalchemy.url": url,
            "openevent.secret": "benchmark-secret-not-for-production",
            "openevent.broker_url": args.redis_url,
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

    stop, ready = threading.Event(), threading.Event()
    worker = threading.Thread(
        target=run_worker,
        args=(registry, stop),
        kwargs={"threads": args.threads, "queues": ["bench"], "started": ready},
    )
    worker.start()
    ready.wait()
    try:
        latencies = []
        for number in range(args.samples):
            with manager:
                enqueue(
                    get_tm_session(registry["dbsession_factory"], manager),
                    bench_job,
                    number,
                    event_id,
                )
                committing = time.perf_counter()
            _wait(lambda n=number: n in _started)
            latencies.append((_started[number] - committing) * 1000)

        _finished.clear()
        begin = time.perf_counter()
        with manager:
            dbsession = get_tm_session(registry["dbsession_factory"], manager)
            for number in range(args.samples, args.samples + args.jobs):
                enqueue(dbsession, bench_job, number, event_id)
        _wait(lambda: len(_finished) >= args.jobs, timeout=600)
        elapsed = _finished[-1] - begin
    finally:
        stop.set()
        worker.join()
        broker = registry[BROKER_KEY]
        keys = list(broker.client.scan_iter(f"{namespace}*"))
        if keys:
            broker.client.delete(*keys)
        registry["dbengine"].dispose()

    latencies.sort()
    database = registry.settings["sqlalchemy.url"].split(":", 1)[0]
    print(f"broker: {args.redis_url}, database: {database}, worker threads: {args.threads}")
    print(
        f"commit -> job start over {len(latencies)} jobs: median {statistics.median(latencies):.1f}"
        f" ms, p95 {latencies[int(len(latencies) * 0.95) - 1]:.1f} ms,"
        f" max {latencies[-1]:.1f} ms"
    )
    print(
        f"throughput: {args.jobs} jobs in {elapsed:.2f} s = {args.jobs / elapsed:.0f} jobs/s"
        " (enqueue in one transaction, until the last job finished)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
