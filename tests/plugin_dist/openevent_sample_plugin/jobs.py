"""The sample plugin's job: record one change of a session's title."""

from datetime import datetime

from sqlalchemy import select

from openevent.jobs import job
from openevent.models import Event
from openevent_sample_plugin.models import SessionTitleChange


@job
def record_title_change(
    ctx, session_id: int, old_title: str, new_title: str, changed_at: str, user_id: int | None
) -> None:
    """Add the row of one title change, for the event the change was enqueued for.

    Dramatiq delivers at least once: a message delivered again finds the row its first
    delivery wrote (by ``ctx.message_id``) and adds none. The event may be gone by now
    (deleted for good): there is nothing to record then.
    """
    if ctx.dbsession.get(Event, ctx.event_id) is None:
        return
    recorded = select(SessionTitleChange.id).where(SessionTitleChange.message_id == ctx.message_id)
    if ctx.dbsession.scalar(recorded) is not None:
        return
    ctx.dbsession.add(
        SessionTitleChange(
            event_id=ctx.event_id,
            session_id=session_id,
            old_title=old_title,
            new_title=new_title,
            changed_at=datetime.fromisoformat(changed_at),
            user_id=user_id,
            message_id=ctx.message_id,
        )
    )
