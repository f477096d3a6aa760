"""The plugin's jobs: build an export an organizer asked for; rebuild an event's feeds."""

from openevent.jobs import job
from openevent_exports import exporting, feeds


# At most three deliveries: a job that kills its worker each time is then recorded in
# job_failures, and the API shows the export failed.
@job(queue_name="exports", max_retries=2)
def build_export(ctx, export_id: int) -> None:
    """Build export ``export_id``; it records its own failure (state failed, the error)."""
    exporting.run_export(ctx, export_id)


@job(queue_name="exports")
def rebuild_feeds(ctx) -> None:
    """Write the feeds of ``ctx.event_id``'s program as it is now (see :mod:`feeds`)."""
    feeds.rebuild(ctx, rebuild_feeds)
