"""The order of an event's tickets: live tickets hold positions 1..n, without gaps or duplicates.

Every change goes through here, after :func:`lock`: a new or restored ticket is :func:`add`-ed,
one is :func:`move`-d, and one about to be trashed or deleted is :func:`remove`-d first. The
lock is the event's (:mod:`openevent.event_locks`), so concurrent reorders of one event run one
after the other, and each sees the positions the previous one committed.
"""

from sqlalchemy import case, func, inspect, select, update

from openevent import changes, event_locks
from openevent.db import utcnow
from openevent.models import Ticket


class PositionOutOfRange(ValueError):
    """A requested position is not one a ticket can take; the message says which are."""


def lock(session, ticket: Ticket) -> bool:
    """Lock ``ticket``'s event until the transaction ends and reload ``ticket`` if it is stored.

    Returns False if a stored ticket is gone (deleted by a transaction that held the lock).
    """
    event_locks.lock(session, ticket.event.id)
    if not inspect(ticket).persistent:
        return True
    # Positions read before the lock may have moved since; read them again.
    fresh = select(Ticket).where(Ticket.id == ticket.id).execution_options(populate_existing=True)
    return session.scalar(fresh) is not None


def add(session, ticket: Ticket, position: int | None = None) -> None:
    """Make ``ticket`` (new, or restored from the trash) live at ``position``, by default last.

    The tickets at ``position`` and after move one place down.
    """
    with session.no_autoflush:
        # Not flushed yet: a restored ticket still counts as trashed here.
        last = _live_count(session, ticket.event.id) + 1
    target = last if position is None else _checked(position, last)
    # Appended first: the end is always free, so the row can be written before the others move.
    ticket.position = last
    session.add(ticket)
    session.flush()
    if target != last:
        move(session, ticket, target)


def move(session, ticket: Ticket, position: int) -> None:
    """Move live ``ticket`` to ``position``; the tickets in between close up behind it."""
    count = _live_count(session, ticket.event_id)
    position = _checked(position, count)
    old = ticket.position
    if position == old:
        return
    low, high = sorted((old, position))
    step = -1 if position > old else 1
    _renumber(
        session,
        ticket.event_id,
        Ticket.position.between(low, high),
        lambda current: case((Ticket.id == ticket.id, position), else_=current + step),
        ceiling=count,
    )


def remove(session, ticket: Ticket) -> None:
    """Before ``ticket`` is trashed or deleted: move it last, so that it leaves no gap."""
    if ticket.deleted_at is None:
        move(session, ticket, _live_count(session, ticket.event_id))


def _live(event_id: int):
    return (Ticket.event_id == event_id) & Ticket.deleted_at.is_(None)


def _live_count(session, event_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Ticket).where(_live(event_id)))


def _checked(position: int, last: int) -> int:
    if not 1 <= position <= last:
        raise PositionOutOfRange(f"must be between 1 and {last}")
    return position


def _renumber(session, event_id: int, window, new_position, *, ceiling: int) -> None:
    """Give the live tickets in ``window`` the positions ``new_position(current position)``.

    The unique index on live positions is checked row by row, in whatever order the database
    updates them, by PostgreSQL and SQLite alike; a single ``position = position + 1`` can
    collide halfway. So the window first moves above ``ceiling`` (the highest live position),
    clear of every other row, and then down to its new positions, which the window had vacated.
    """
    live = _live(event_id)
    fetch = {"synchronize_session": "fetch"}
    lifted = session.execute(
        update(Ticket)
        .where(live, window)
        .values(position=Ticket.position + ceiling)
        .returning(Ticket.id, Ticket.position),
        execution_options=fetch,
    )
    old = {id: position - ceiling for id, position in lifted}
    placed = session.execute(
        update(Ticket)
        .where(live, Ticket.position > ceiling)
        .values(position=new_position(Ticket.position - ceiling), last_modified_at=utcnow())
        .returning(Ticket.id, Ticket.position),
        execution_options=fetch,
    )
    # Bulk UPDATEs are invisible to the ORM's events: report the moves to change subscribers.
    for id, position in sorted(placed):
        changes.record_update(session, Ticket, id, event_id, {"position": (old[id], position)})
