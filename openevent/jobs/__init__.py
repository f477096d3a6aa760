"""Jobs: work done after a transaction commits, by Dramatiq workers, in its own transaction.

Define a job with :func:`job`, enqueue it with ``request.enqueue(job, ...)`` or
:func:`enqueue` (through the outbox, so only committed work is sent), run workers with
``openevent worker CONFIG``. See docs/jobs.md.
"""

from pyramid.events import ApplicationCreated
from sqlalchemy import event

from openevent.jobs.broker import BROKER_KEY, actor_for, build_broker, declare_known_jobs
from openevent.jobs.definitions import Job, JobContext, job
from openevent.jobs.outbox import (
    enqueue,
    relay_outbox,
    track_savepoints,
    write_pending_before_flush,
)
from openevent.jobs.worker import run_worker, start_in_process_worker

__all__ = [
    "BROKER_KEY",
    "IN_PROCESS_WORKER_KEY",
    "Job",
    "JobContext",
    "actor_for",
    "declare_known_jobs",
    "enqueue",
    "job",
    "relay_outbox",
    "run_worker",
    "start_in_process_worker",
]


def _request_enqueue(request, job: Job, *args, **kwargs) -> str:
    return enqueue(request.dbsession, job, *args, **kwargs)


IN_PROCESS_WORKER_KEY = "openevent.jobs.in_process_worker"


def _start_worker_with_app(event: ApplicationCreated) -> None:
    registry = event.app.registry
    registry[IN_PROCESS_WORKER_KEY] = start_in_process_worker(registry)


def includeme(config):
    """Build the broker from settings, declare known jobs, add ``request.enqueue``."""
    settings = config.get_settings()
    event.listen(config.registry["dbsession_factory"], "before_flush", write_pending_before_flush)
    track_savepoints(config.registry["dbsession_factory"])
    config.registry[BROKER_KEY] = build_broker(settings, config.registry)
    declare_known_jobs(config.registry)
    config.add_request_method(_request_enqueue, "enqueue")
    if settings["openevent.jobs.in_process_worker"]:
        # When the WSGI app exists (pserve), not at every configure() (CLI, worker, tests).
        config.add_subscriber(_start_worker_with_app, ApplicationCreated)
