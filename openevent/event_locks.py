"""One event's changes that must see each other's results run one after the other.

Some rules hold across several rows of an event: its live tickets hold positions 1..n
(:mod:`openevent.ticket_positions`), and its team always keeps an owner (the roles views). Two
transactions that each read the rows, check the rule and write would both pass their checks and
together break it. So each first takes :func:`lock`, held until its transaction ends, and only
then reads what it checks: the second waits for the first to commit and sees its result.
"""

from sqlalchemy import select

from openevent.models import Event


def lock(session, event_id: int) -> bool:
    """Lock the event's row until the transaction ends; False if the event is gone.

    Rows read before the lock may have changed since: read again what the rule depends on.
    """
    # FOR NO KEY UPDATE: changes of the event wait for each other, while inserting rows that
    # merely reference the event (whose foreign-key checks take KEY SHARE) does not wait.
    # SQLite has no row locks; its single writer serializes the transactions anyway.
    event_row = select(Event.id).where(Event.id == event_id).with_for_update(key_share=True)
    return session.execute(event_row).first() is not None
