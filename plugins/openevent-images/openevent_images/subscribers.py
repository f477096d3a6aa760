"""From a change of an image attribute to the job that resizes it.

In the committing transaction (``in_transaction``), so the job commits with the change: a
process that dies right after the commit loses no image. Each change of an image starts one
job, carrying the new URL and the one it replaced, so the job can tell whether it is still the
last word and which files it may delete. A row created with an image from elsewhere starts
none: there is nothing to resize, and sizes given with it (an import's) stay.
"""

from openevent.changes import (
    EventCreated,
    EventUpdated,
    SpeakerCreated,
    SpeakerDeleted,
    SpeakerUpdated,
    in_transaction,
)
from openevent_images.jobs import delete_replaced, process_image
from openevent_images.keys import token_in
from openevent_images.settings import KINDS

_EVENT_KINDS = [kind for kind in KINDS.values() if kind.model == "event"]
_SPEAKER_KINDS = [kind for kind in KINDS.values() if kind.model == "speaker"]


def _enqueue_changed(change, kinds) -> None:
    created = isinstance(change, EventCreated | SpeakerCreated)
    for kind in kinds:
        if kind.source in change.changes:
            old_url, new_url = change.changes[kind.source]
            if created and token_in(new_url, change.event_id) is None:
                # A new row whose image is not one of our uploads: nothing to make, and the
                # sizes it came with (an imported export's) are its own, not stale.
                continue
            if new_url is not None or old_url is not None:
                change.enqueue(process_image, kind.name, change.id, new_url, old_url)


@in_transaction
def on_event_written(change) -> None:
    _enqueue_changed(change, _EVENT_KINDS)


@in_transaction
def on_speaker_written(change) -> None:
    _enqueue_changed(change, _SPEAKER_KINDS)


@in_transaction
def on_speaker_deleted(change: SpeakerDeleted) -> None:
    """A speaker deleted for good: its photos go too, unless another row uses them. (One in
    the trash keeps them, to be restored.)"""
    if change.soft:
        return
    tokens = {
        token_in(old, change.event_id) for old, _ in change.changes.values() if isinstance(old, str)
    }
    tokens.discard(None)
    if tokens:
        change.enqueue(delete_replaced, sorted(tokens), [])


def includeme(config):
    event_sources = tuple(kind.source for kind in _EVENT_KINDS)
    speaker_sources = tuple(kind.source for kind in _SPEAKER_KINDS)
    config.add_subscriber(on_event_written, EventCreated)
    config.add_subscriber(on_event_written, EventUpdated, attributes=event_sources)
    config.add_subscriber(on_speaker_written, SpeakerCreated)
    config.add_subscriber(on_speaker_written, SpeakerUpdated, attributes=speaker_sources)
    config.add_subscriber(on_speaker_deleted, SpeakerDeleted)
