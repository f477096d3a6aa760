"""Running jobs: a worker over the app's broker that also relays the outbox."""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq

from openevent.jobs.broker import BROKER_KEY, declare_known_jobs
from openevent.jobs.outbox import relay_outbox

log = logging.getLogger(__name__)

# How long an idle consumer waits between polls at most, in milliseconds. Dramatiq's default
# (1 s) would add up to a second between a commit and its job's start.
POLL_MS = 100


@contextmanager
def started_worker(broker: dramatiq.Broker, **options) -> Iterator[dramatiq.Worker]:
    """A Dramatiq worker on ``broker`` (``options`` as for ``dramatiq.Worker``), started; on
    leaving, stopped and its middleware taken off the broker.

    ``Worker.start()`` adds a middleware of the worker's own to the broker and ``stop()`` leaves
    it there: another worker started later in the process (the tests' ``run_jobs``, a restarted
    worker) would add a duplicate, which Dramatiq warns about, and each queue declared later
    would get consumers for the stopped worker.
    """
    before = list(broker.middleware)
    worker = dramatiq.Worker(broker, **options)
    worker.start()
    # Only what this worker added: another worker may be running on the same broker.
    added = [m for m in broker.middleware if not any(m is b for b in before)]
    try:
        yield worker
    finally:
        worker.stop()
        broker.middleware[:] = [m for m in broker.middleware if not any(m is a for a in added)]


def run_worker(
    registry,
    stop: threading.Event,
    *,
    threads: int = 8,
    queues: list[str] | None = None,
    relay: bool = True,
    started: threading.Event | None = None,
) -> None:
    """Process jobs until ``stop`` is set, then finish the messages in progress and return.

    Every ``openevent.jobs.relay_interval_seconds`` the outbox is relayed (see
    :func:`relay_outbox`) unless ``relay`` is false.
    """
    declare_known_jobs(registry)
    interval = registry.settings["openevent.jobs.relay_interval_seconds"]
    # The first round before any job starts: not beside the jobs' first transactions.
    if relay:
        _relay(registry, interval)
    with started_worker(
        registry[BROKER_KEY],
        queues=set(queues) if queues else None,
        worker_threads=threads,
        worker_timeout=POLL_MS,
    ):
        log.info("worker started: %d thread(s), queues %s", threads, ", ".join(queues or ["all"]))
        if started is not None:
            started.set()
        try:
            while not stop.wait(interval):
                if relay:
                    _relay(registry, interval)
        finally:
            log.info("worker stopping: finishing the jobs in progress")


def _relay(registry, interval) -> None:
    try:
        relay_outbox(registry)
    except Exception:
        log.exception("outbox relay failed; trying again in %d s", interval)


class InProcessWorker:
    """A worker running in a daemon thread of this process (development)."""

    def __init__(self, registry, threads: int = 1):
        self._stop = threading.Event()
        self.started = threading.Event()
        self.thread = threading.Thread(
            target=run_worker,
            args=(registry, self._stop),
            kwargs={"threads": threads, "started": self.started},
            name="openevent-jobs",
            daemon=True,
        )

    def start(self) -> InProcessWorker:
        self.thread.start()
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Finish the jobs in progress and end the thread."""
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join()


def start_in_process_worker(registry, threads: int = 1) -> InProcessWorker:
    """Run a worker in a daemon thread of this process; stopped at exit."""
    return InProcessWorker(registry, threads).start()
