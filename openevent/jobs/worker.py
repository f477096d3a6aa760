"""Running jobs: a worker over the app's broker that also relays the outbox."""

from __future__ import annotations

import atexit
import logging
import threading

import dramatiq

from openevent.jobs.broker import BROKER_KEY, declare_known_jobs
from openevent.jobs.outbox import relay_outbox

log = logging.getLogger(__name__)

# How long an idle consumer waits between polls at most, in milliseconds. Dramatiq's default
# (1 s) would add up to a second between a commit and its job's start.
POLL_MS = 100


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
    worker = dramatiq.Worker(
        registry[BROKER_KEY],
        queues=set(queues) if queues else None,
        worker_threads=threads,
        worker_timeout=POLL_MS,
    )
    worker.start()
    log.info("worker started: %d thread(s), queues %s", threads, ", ".join(queues or ["all"]))
    if started is not None:
        started.set()
    interval = registry.settings["openevent.jobs.relay_interval_seconds"]
    try:
        while True:
            if relay:
                try:
                    relay_outbox(registry)
                except Exception:
                    log.exception("outbox relay failed; trying again in %d s", interval)
            if stop.wait(interval):
                break
    finally:
        log.info("worker stopping: finishing the jobs in progress")
        worker.stop()


def start_in_process_worker(registry, threads: int = 1) -> threading.Thread:
    """Run a worker in a daemon thread of this process (development); stopped at exit."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(registry, stop),
        kwargs={"threads": threads},
        name="openevent-jobs",
        daemon=True,
    )
    thread.start()

    def _stop():
        stop.set()
        thread.join()

    atexit.register(_stop)
    return thread
