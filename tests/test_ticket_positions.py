import pytest
from sqlalchemy import select

from openevent import ticket_positions
from openevent.db import utcnow
from openevent.models import Ticket
from openevent.testing import make_event, make_ticket


@pytest.fixture
def event(dbsession):
    return make_event(dbsession)


@pytest.fixture
def tickets(dbsession, event):
    return [make_ticket(dbsession, event, name=name) for name in "ABCDE"]


def order(dbsession, event) -> list[str]:
    """Names of the event's live tickets by position, checking that positions are 1..n."""
    dbsession.flush()
    dbsession.expire_all()
    rows = dbsession.scalars(
        select(Ticket)
        .where(Ticket.event_id == event.id, Ticket.deleted_at.is_(None))
        .order_by(Ticket.position)
    ).all()
    assert [t.position for t in rows] == list(range(1, len(rows) + 1))
    return [t.name for t in rows]


def test_add_appends_by_default(dbsession, event, tickets):
    ticket = Ticket(event=event, name="F")
    ticket_positions.lock(dbsession, ticket)
    ticket_positions.add(dbsession, ticket)
    assert ticket.position == 6
    assert order(dbsession, event) == list("ABCDEF")


@pytest.mark.parametrize(
    ("position", "expected"), [(1, "FABCDE"), (3, "ABFCDE"), (5, "ABCDFE"), (6, "ABCDEF")]
)
def test_add_inserts_and_shifts_the_rest(dbsession, event, tickets, position, expected):
    ticket_positions.add(dbsession, Ticket(event=event, name="F"), position)
    assert order(dbsession, event) == list(expected)


@pytest.mark.parametrize(
    ("name", "position", "expected"),
    [
        ("B", 4, "ACDBE"),  # down
        ("D", 2, "ADBCE"),  # up
        ("C", 1, "CABDE"),  # to the top
        ("C", 5, "ABDEC"),  # to the bottom
        ("A", 5, "BCDEA"),  # first to last
        ("E", 1, "EABCD"),  # last to first
        ("C", 3, "ABCDE"),  # where it is
    ],
)
def test_move(dbsession, event, tickets, name, position, expected):
    ticket = next(t for t in tickets if t.name == name)
    ticket_positions.lock(dbsession, ticket)
    ticket_positions.move(dbsession, ticket, position)
    assert ticket.position == position
    assert order(dbsession, event) == list(expected)


def test_move_updates_last_modified_of_the_shifted_tickets_only(dbsession, event, tickets):
    before = {t.name: t.last_modified_at for t in tickets}
    ticket_positions.move(dbsession, tickets[3], 2)  # D moves up past B and C
    dbsession.expire_all()
    changed = {t.name for t in tickets if t.last_modified_at != before[t.name]}
    assert changed == {"B", "C", "D"}


@pytest.mark.parametrize("position", [0, -1, 6, 100])
def test_move_outside_one_to_n_is_refused(dbsession, event, tickets, position):
    with pytest.raises(ticket_positions.PositionOutOfRange, match="between 1 and 5"):
        ticket_positions.move(dbsession, tickets[0], position)
    assert order(dbsession, event) == list("ABCDE")


@pytest.mark.parametrize("position", [0, 7])
def test_add_outside_one_to_n_plus_one_is_refused(dbsession, event, tickets, position):
    with pytest.raises(ticket_positions.PositionOutOfRange, match="between 1 and 6"):
        ticket_positions.add(dbsession, Ticket(event=event, name="F"), position)


@pytest.mark.parametrize("index", [0, 2, 4])
def test_remove_then_trash_leaves_no_gap(dbsession, event, tickets, index):
    ticket = tickets[index]
    ticket_positions.remove(dbsession, ticket)
    ticket.deleted_at = utcnow()
    expected = [t.name for t in tickets if t is not ticket]
    assert order(dbsession, event) == expected


def test_remove_then_delete_leaves_no_gap(dbsession, event, tickets):
    ticket_positions.remove(dbsession, tickets[1])
    dbsession.delete(tickets[1])
    assert order(dbsession, event) == list("ACDE")


def test_restore_appends(dbsession, event, tickets):
    ticket_positions.remove(dbsession, tickets[0])
    tickets[0].deleted_at = utcnow()
    dbsession.flush()
    ticket_positions.add(dbsession, Ticket(event=event, name="F"), 1)
    tickets[0].deleted_at = None  # its stale position 5 is taken by E now
    ticket_positions.add(dbsession, tickets[0])
    assert order(dbsession, event) == list("FBCDEA")


def test_other_events_keep_their_order(dbsession, event, tickets):
    other = make_event(dbsession)
    others = [make_ticket(dbsession, other, name=name) for name in "XYZ"]
    ticket_positions.move(dbsession, tickets[0], 5)
    ticket_positions.remove(dbsession, tickets[1])
    assert order(dbsession, other) == ["X", "Y", "Z"]
    assert [t.position for t in others] == [1, 2, 3]


def test_lock_tells_a_ticket_deleted_meanwhile(dbsession, event, tickets):
    dbsession.execute(Ticket.__table__.delete().where(Ticket.id == tickets[0].id))
    assert ticket_positions.lock(dbsession, tickets[0]) is False
    assert ticket_positions.lock(dbsession, tickets[1]) is True
