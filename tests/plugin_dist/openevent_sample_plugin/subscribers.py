"""From a change of a session's title to the job that records it."""

from openevent.changes import SessionUpdated, in_transaction
from openevent_sample_plugin.jobs import record_title_change


@in_transaction
def on_session_retitled(change: SessionUpdated) -> None:
    """Runs in the committing transaction, for events the plugin is enabled for, so the job's
    outbox row commits with the change: it only enqueues."""
    old_title, new_title = change.changes["title"]
    changed_at = change.committed_at.isoformat()  # job arguments are plain JSON values
    change.enqueue(record_title_change, change.id, old_title, new_title, changed_at, change.user_id)


def includeme(config):
    # attributes=: only updates that changed the title reach the subscriber.
    config.add_subscriber(on_session_retitled, SessionUpdated, attributes=("title",))
