"""Declaring jobs: ``@job`` records a function; each app declares it as an actor on its broker.

Nothing here touches Dramatiq's global broker, so importing a module that defines jobs has no
side effect and several apps (with different brokers) can live in one process, as in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

_JOBS: dict[str, Job] = {}


@dataclass(frozen=True, eq=False)
class Job:
    """A function run by a worker, with the queue and retry options of its actor."""

    fn: Callable[..., Any]
    name: str
    queue_name: str
    options: dict[str, Any] = field(default_factory=dict)
    writes: bool = True  # False: its transaction only reads (see ``job``)

    def __call__(self, context: JobContext, *args, **kwargs):
        """Run the function directly (in a unit test, say); workers go through the actor."""
        return self.fn(context, *args, **kwargs)


@dataclass(frozen=True)
class JobContext:
    """What a running job gets besides its arguments."""

    dbsession: Session  # in the job's own transaction, committed when the job returns
    registry: Any
    message_id: str
    event_id: int | None = None  # as given to ``enqueue(..., event_id=...)``

    @property
    def storage(self):
        """The app's file storage (:mod:`openevent.storage`), as ``request.storage``."""
        return self.registry["openevent.storage"]

    def enqueue(self, job: Job, *args, event_id: int | None = None, **kwargs) -> str:
        """Enqueue a follow-up job, sent when this job's transaction commits."""
        from openevent.jobs.outbox import enqueue

        return enqueue(self.dbsession, job, *args, event_id=event_id, **kwargs)


def job(
    fn: Callable[..., Any] | None = None,
    *,
    queue_name: str = "default",
    max_retries: int | None = None,
    min_backoff: int | None = None,
    max_backoff: int | None = None,
    writes: bool = True,
):
    """Declare ``fn(context, *args, **kwargs)`` a job; use as ``@job`` or ``@job(...)``.

    ``max_retries``, ``min_backoff`` and ``max_backoff`` (milliseconds) override the
    ``openevent.jobs.*`` settings for this job. ``writes=False`` promises that the job only
    reads the database: on SQLite its transaction then begins without the write lock and runs
    beside the writers and the other jobs, instead of one at a time; a write in it fails with
    :class:`openevent.db.WriteRefused` (on every database), and the job with it.
    """
    options = {
        name: value
        for name, value in (
            ("max_retries", max_retries),
            ("min_backoff", min_backoff),
            ("max_backoff", max_backoff),
        )
        if value is not None
    }

    def _record(fn: Callable[..., Any]) -> Job:
        definition = Job(fn, f"{fn.__module__}.{fn.__qualname__}", queue_name, options, writes)
        _JOBS[definition.name] = definition
        return definition

    return _record(fn) if fn is not None else _record


def known_jobs() -> list[Job]:
    """Every job defined so far, in the order the modules defining them were imported."""
    return list(_JOBS.values())
