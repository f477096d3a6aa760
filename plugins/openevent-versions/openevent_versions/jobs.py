"""The job that raises an event's counters after a committed transaction."""

from openevent.jobs import job
from openevent_versions.counters import bump_counters


@job(queue_name="versions")
def bump(ctx, event_id: int, collections: list[str]) -> None:
    """Raise ``collections``' counters of ``event_id`` by one.

    Not idempotent, and need not be: Dramatiq delivers at least once, so a redelivered message
    raises the counters again. Clients only compare versions for equality, so a counter that
    grew by two for one change costs them one needless refetch; a counter never goes down and
    a change is never missed, which is the promise.
    """
    bump_counters(ctx.dbsession, event_id, collections)
