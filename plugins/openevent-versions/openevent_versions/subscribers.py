"""From committed changes to one bump job per event and transaction."""

from collections import defaultdict

from openevent.changes import ChangesCommitted, in_transaction
from openevent_versions.jobs import bump

# The counter a change of each model raises. Event roles (who is on the team) are not part of
# what clients show offline, so they raise nothing.
COLLECTION_OF_MODEL = {
    "event": "event",
    "session": "sessions",
    "speaker": "speakers",
    "ticket": "tickets",
    "track": "tracks",
    "microlocation": "microlocations",
}


def touched_collections(changes) -> dict[int, list[str]]:
    """``{event_id: [collection, ...]}`` for the changes of one transaction."""
    touched: dict[int, set[str]] = defaultdict(set)
    for change in changes:
        collection = COLLECTION_OF_MODEL.get(change.model)
        if collection is not None and change.event_id is not None:
            touched[change.event_id].add(collection)
    return {event_id: sorted(names) for event_id, names in touched.items()}


@in_transaction
def on_changes_committed(batch: ChangesCommitted) -> None:
    """Enqueue one bump per event the transaction changed (events this plugin is enabled for:
    openevent leaves the others out of the batch, and re-checks when the job runs).

    In the committing transaction: the bumps are enqueued if and only if the changes commit,
    so a process that dies right after the commit loses none of them."""
    for event_id, collections in touched_collections(batch.changes).items():
        batch.enqueue(bump, event_id, collections, event_id=event_id)


def includeme(config):
    config.add_subscriber(on_changes_committed, ChangesCommitted)
