import threading

import pytest
import transaction

from openevent.cli import main
from openevent.db import get_tm_session
from openevent.jobs import enqueue, job, run_worker

started = threading.Event()
release = threading.Event()
finished = []


@job
def slow(context, number):
    started.set()
    release.wait(5)
    finished.append(number)


def test_worker_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["worker", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("CONFIG", "--processes", "--threads", "--queues", "SIGTERM"):
        assert option in out


def test_worker_stops_gracefully_after_the_job_in_progress(registry, broker, db_connection):
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        enqueue(get_tm_session(registry["dbsession_factory"], manager), slow, 1)
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(registry, stop), kwargs={"threads": 1})
    worker.start()
    try:
        assert started.wait(5), "the job never started"
        stop.set()  # what the SIGTERM handler of `openevent worker` does
        worker.join(0.3)
        assert worker.is_alive(), "the worker must wait for the job in progress"
        release.set()
        worker.join(10)
        assert not worker.is_alive()
        assert finished == [1]
    finally:
        release.set()
        stop.set()
        worker.join(10)


def test_a_stopped_worker_takes_its_middleware_off_the_broker(registry, broker, db_connection):
    # Left there, it would make the next worker's a duplicate, and consumers for a stopped
    # worker would start on each queue declared later.
    middleware = list(broker.middleware)
    stop = threading.Event()
    running = threading.Event()
    worker = threading.Thread(
        target=run_worker,
        args=(registry, stop),
        kwargs={"threads": 1, "relay": False, "started": running},
    )
    worker.start()
    assert running.wait(5)
    assert len(broker.middleware) == len(middleware) + 1  # the running worker's own
    stop.set()
    worker.join(10)
    assert broker.middleware == middleware
