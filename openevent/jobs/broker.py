"""The app's Dramatiq broker: built from settings, with openevent's middleware and actors."""

from __future__ import annotations

import itertools
import json
import logging
import threading
import traceback

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Middleware,
    MiddlewareError,
    Pipelines,
    Retries,
    ShutdownNotifications,
    SkipMessage,
    TimeLimit,
)
from sqlalchemy import exists, select

from openevent.db import Lane, transaction_scope
from openevent.jobs.bookkeeping import bookkeeping_writer
from openevent.jobs.definitions import Job, JobContext, known_jobs
from openevent.models import JobFailure
from openevent.plugins import is_enabled_for_event

log = logging.getLogger(__name__)

BROKER_KEY = "openevent.jobs.broker"
# Message options naming the plugin that owns the job and the event it acts for.
PLUGIN_OPTION = "openevent_plugin"
EVENT_OPTION = "openevent_event_id"

_declaring = threading.Lock()


def _failure(message, *, error: str, traceback: str, attempts: int) -> JobFailure:
    """The ``job_failures`` row of a message that will not run again."""
    return JobFailure(
        message_id=message.message_id,
        actor_name=message.actor_name,
        queue_name=message.queue_name,
        args=json.dumps({"args": message.args, "kwargs": message.kwargs}),
        # The whole encoded message, to inspect or re-enqueue it (Dramatiq's proxy keeps it).
        message=message._message.encode(),
        error=error,
        traceback=traceback,
        attempts=attempts,
    )


class JobBookkeeping(Middleware):
    """Records messages that failed for good in ``job_failures`` and counts processed ones."""

    def __init__(self, registry):
        self.registry = registry
        self._counter = itertools.count(1)
        self.processed = 0  # messages processed, successfully or not (tests and benchmarks)

    def after_skip_message(self, broker, message):
        self.processed = next(self._counter)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        # Runs after Retries (after-hooks run in reverse order), which marks the last failure.
        self.processed = next(self._counter)
        if exception is None or not message.failed:
            return
        with transaction_scope(self.registry, lane=Lane.JOB) as dbsession:
            dbsession.add(
                _failure(
                    message,
                    error=f"{type(exception).__name__}: {exception}",
                    traceback="".join(traceback.format_exception(exception)),
                    attempts=message.options.get("retries", 1),
                )
            )


class WorkerDied(SkipMessage):
    """A message skipped because its deliveries ran out without the job finishing."""


class DeliveryNotCounted(MiddlewareError):
    """The delivery could not be counted (the database is unavailable, say): the job does not
    run; the message fails this attempt and is retried with backoff like a job that raised."""


class DeliveryCounter(Middleware):
    """Counts the times workers start each message; fails one whose workers keep dying.

    Dramatiq counts a retry (``message.options["retries"]``) only when the job raises. A
    message redelivered because its worker died (SIGKILL, out of memory) keeps its count, so
    a job that kills its worker every time would be delivered forever. Before each delivery
    this middleware counts it in ``job_deliveries`` and waits for the count to commit: one
    upsert ``... RETURNING`` in a short transaction shared with the other threads' counts
    (:mod:`openevent.jobs.bookkeeping`). A message started more than ``max_retries + 1``
    times in all (the job's ``max_retries``, or the setting) is recorded in ``job_failures``,
    failed (so the broker dead-letters it) and not run again.
    """

    def __init__(self, registry, max_retries: int):
        self.registry = registry
        self.max_retries = max_retries

    def before_process_message(self, broker, message):
        actor = broker.actors.get(message.actor_name)
        max_retries = message.options.get(
            "max_retries",
            actor.options.get("max_retries", self.max_retries) if actor else self.max_retries,
        )
        # Committed (with other threads' counts: see openevent.jobs.bookkeeping) before the
        # job starts, so a worker that dies running it has its delivery counted.
        try:
            deliveries = bookkeeping_writer(self.registry).count_delivery(message.message_id)
        except Exception as exc:
            # Dramatiq logs other errors of a middleware and runs the job all the same:
            # uncounted, which a job that kills its worker must not be.
            raise DeliveryNotCounted(f"{type(exc).__name__}: {exc}") from exc
        if max_retries is None or deliveries <= max_retries + 1:
            return
        with transaction_scope(self.registry, lane=Lane.JOB) as dbsession:
            retries = message.options.get("retries", 0)
            # Deliveries that were neither the first nor a retry after an exception: the
            # worker died (or, rarely, the message was sent twice).
            died = deliveries - 1 - retries
            error = (
                f"worker died {died} time{'s' if died != 1 else ''} while running this job"
                f" ({deliveries - 1} deliveries, {retries} retried after an error)"
            )
            recorded = dbsession.scalar(
                select(exists().where(JobFailure.message_id == message.message_id))
            )
            if not recorded:  # a worker dying after this commit must not record it twice
                dbsession.add(
                    _failure(
                        message,
                        error=error,
                        traceback=message.options.get("traceback") or "",
                        attempts=deliveries - 1,
                    )
                )
        log.error("job %s (%s) not run again: %s", message.actor_name, message.message_id, error)
        message.fail()  # nacked: Redis and RabbitMQ move it to their dead-letter queue
        raise WorkerDied(error)


def build_broker(settings, registry) -> dramatiq.Broker:
    """The broker ``openevent.broker_url`` names, with retries configured from settings."""
    middleware = [
        AgeLimit(),
        TimeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        CurrentMessage(),
        DeliveryCounter(registry, settings["openevent.jobs.max_retries"]),
        JobBookkeeping(registry),
        # Last, so its after_process_message runs first and JobBookkeeping sees the verdict.
        Retries(
            max_retries=settings["openevent.jobs.max_retries"],
            min_backoff=settings["openevent.jobs.min_backoff_ms"],
            max_backoff=settings["openevent.jobs.max_backoff_ms"],
        ),
    ]
    url = settings["openevent.broker_url"]
    if url == "stub":
        return StubBroker(middleware=middleware)
    if url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(
            url=url,
            namespace=settings["openevent.jobs.redis_namespace"],
            heartbeat_timeout=settings["openevent.jobs.redis_heartbeat_timeout_ms"],
            maintenance_chance=settings["openevent.jobs.redis_maintenance_chance"],
            middleware=middleware,
        )
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    # Publisher confirms: a message counts as sent only once RabbitMQ has it.
    return RabbitmqBroker(url=url, confirm_delivery=True, middleware=middleware)


def bookkeeping(broker: dramatiq.Broker) -> JobBookkeeping:
    return next(m for m in broker.middleware if isinstance(m, JobBookkeeping))


def actor_for(registry, job: Job) -> dramatiq.Actor:
    """The actor running ``job`` on the app's broker, declared on first use."""
    broker = registry[BROKER_KEY]
    with _declaring:
        actor = broker.actors.get(job.name)
        if actor is None:
            actor = dramatiq.Actor(
                _runner(registry, job),
                broker=broker,
                actor_name=job.name,
                queue_name=job.queue_name,
                priority=0,
                options=dict(job.options),
            )
    return actor


def declare_known_jobs(registry) -> None:
    """Declare every job defined so far, so that a worker consumes their queues."""
    for definition in known_jobs():
        actor_for(registry, definition)


def _runner(registry, job: Job):
    def run(*args, **kwargs):
        message = CurrentMessage.get_current_message()
        plugin = message.options.get(PLUGIN_OPTION)
        event_id = message.options.get(EVENT_OPTION)
        with transaction_scope(registry, lane=Lane.JOB, writes=job.writes) as dbsession:
            dbsession.info["actor_id"] = None  # jobs act as the system
            if plugin is not None and not is_enabled_for_event(dbsession, plugin, event_id):
                log.info(
                    "skipping job %s (%s): plugin %s is disabled for event %s",
                    job.name,
                    message.message_id,
                    plugin,
                    event_id,
                )
                return
            job.fn(JobContext(dbsession, registry, message.message_id, event_id), *args, **kwargs)

    run.__name__ = job.fn.__name__
    run.__qualname__ = job.fn.__qualname__
    run.__module__ = job.fn.__module__
    return run
