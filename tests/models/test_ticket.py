from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from openevent.db import utcnow
from openevent.models import Ticket
from openevent.testing import make_event, make_ticket


def test_price_is_decimal(dbsession):
    ticket = make_ticket(dbsession, make_event(dbsession), price=Decimal("19.99"))
    dbsession.expire_all()
    assert dbsession.get(Ticket, ticket.id).price == Decimal("19.99")


@pytest.mark.parametrize("field", ["price", "quantity"])
def test_price_and_quantity_cannot_be_negative(dbsession, field):
    with pytest.raises(IntegrityError):
        make_ticket(dbsession, make_event(dbsession), **{field: -1})


def test_sales_window_must_end_after_it_starts(dbsession):
    with pytest.raises(IntegrityError):
        make_ticket(
            dbsession,
            make_event(dbsession),
            sales_starts_at=datetime(2030, 1, 2, tzinfo=UTC),
            sales_ends_at=datetime(2030, 1, 1, tzinfo=UTC),
        )


def test_position_must_be_positive(dbsession):
    with pytest.raises(IntegrityError):
        make_ticket(dbsession, make_event(dbsession), position=0)


def test_position_is_unique_among_live_tickets_of_an_event(dbsession):
    event = make_event(dbsession)
    make_ticket(dbsession, event, position=1)
    with pytest.raises(IntegrityError):
        make_ticket(dbsession, event, position=1)


def test_trashed_tickets_free_their_position(dbsession):
    event = make_event(dbsession)
    old = make_ticket(dbsession, event, position=1)
    old.deleted_at = utcnow()
    dbsession.flush()
    assert make_ticket(dbsession, event, position=1).position == 1


def test_other_events_may_use_the_same_positions(dbsession):
    make_ticket(dbsession, make_event(dbsession), position=1)
    assert make_ticket(dbsession, make_event(dbsession), position=1).position == 1
