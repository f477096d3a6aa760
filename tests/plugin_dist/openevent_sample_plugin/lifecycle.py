"""What the sample plugin does when an event's organizers turn it on or off.

openevent calls ``on_enabled`` and ``on_disabled`` (found on the plugin module, which imports
them) in the transaction that flips the switch, so what they write commits with it.
"""

from sqlalchemy import delete, select

from openevent.jobs import job
from openevent.plugins import settings_for_event
from openevent_sample_plugin.models import SampleNote


def on_enabled(switch):
    """Leave a welcome note, in a job: the switch's request does not wait for the work."""
    switch.enqueue(write_welcome_note)


def on_disabled(switch):
    """Forget the event's notes unless its organizers keep them. Here rather than in a job:
    a job of this plugin for this event would be skipped, the plugin being off for it now."""
    if not settings_for_event(switch.dbsession, "sample", switch.event_id)["keep-notes"]:
        switch.dbsession.execute(delete(SampleNote).where(SampleNote.event_id == switch.event_id))


@job
def write_welcome_note(ctx):
    """Add the note the event's settings ask for, once (jobs may run twice)."""
    settings = settings_for_event(ctx.dbsession, "sample", ctx.event_id)
    text = settings["welcome-text"]
    written = select(SampleNote.id).where(
        SampleNote.event_id == ctx.event_id, SampleNote.text == text
    )
    if settings["welcome-note"] and ctx.dbsession.scalar(written) is None:
        ctx.dbsession.add(SampleNote(event_id=ctx.event_id, text=text))
