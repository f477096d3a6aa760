from datetime import UTC, datetime, timedelta, timezone

import pytest
import pytz
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite

from openevent.db import NaiveDatetimeError
from openevent.db.types import UTCDateTime
from openevent.models import Event
from openevent.testing import make_event


def test_naive_datetime_is_refused_on_assignment(dbsession):
    event = make_event(dbsession)
    with pytest.raises(NaiveDatetimeError, match="no UTC offset"):
        event.starts_at = datetime(2030, 1, 1, 9, 0)


def test_naive_datetime_is_refused_in_constructor():
    with pytest.raises(NaiveDatetimeError):
        Event(name="x", timezone="UTC", starts_at=datetime(2030, 1, 1), ends_at=None)


def test_naive_datetime_is_refused_in_queries(dbsession):
    with pytest.raises(Exception, match="no UTC offset"):
        dbsession.scalars(select(Event).where(Event.starts_at > datetime(2030, 1, 1))).all()


def test_aware_values_are_stored_in_utc_and_come_back_aware(dbsession, db_connection):
    singapore = pytz.timezone("Asia/Singapore")
    local = singapore.localize(datetime(2017, 3, 17, 9, 0))
    event = make_event(dbsession, starts_at=local)
    assert event.starts_at == datetime(2017, 3, 17, 1, 0, tzinfo=UTC)
    assert event.starts_at.tzinfo is UTC

    dbsession.expire_all()
    reloaded = dbsession.get(Event, event.id)
    assert reloaded.starts_at == local
    assert reloaded.starts_at.utcoffset() == timedelta(0)
    assert reloaded.created_at.tzinfo is not None


def test_stored_value_is_utc_in_the_database(dbsession, db_connection):
    plus_eight = timezone(timedelta(hours=8))
    event = make_event(dbsession, starts_at=datetime(2017, 3, 17, 9, 0, tzinfo=plus_eight))
    raw = db_connection.execute(
        text("SELECT starts_at FROM events WHERE id = :id"), {"id": event.id}
    ).scalar_one()
    if isinstance(raw, str):  # SQLite keeps text
        assert raw.startswith("2017-03-17 01:00:00")
    else:
        assert raw == datetime(2017, 3, 17, 1, 0, tzinfo=UTC)


def test_comparisons_across_offsets(dbsession):
    event = make_event(dbsession, starts_at=datetime(2030, 6, 1, 12, 0, tzinfo=UTC))
    new_york = pytz.timezone("America/New_York").localize(datetime(2030, 6, 1, 7, 59))
    found = dbsession.scalars(select(Event.id).where(Event.starts_at > new_york)).all()
    assert event.id in found
    just_after = new_york + timedelta(minutes=2)
    assert event.id not in dbsession.scalars(select(Event.id).where(Event.starts_at > just_after))


@pytest.mark.parametrize(
    "given",
    [
        datetime(2017, 3, 17, 9, 0, tzinfo=timezone(timedelta(hours=8))),  # a session in +08
        datetime(2017, 3, 17, 1, 0, tzinfo=UTC),
        datetime(2017, 3, 17, 1, 0),  # a timestamp without time zone
    ],
)
def test_postgresql_values_come_back_in_utc_whatever_the_session_timezone(given):
    process = UTCDateTime().result_processor(postgresql.psycopg2.dialect(), None)
    value = process(given)
    assert value.tzinfo is UTC
    assert value == datetime(2017, 3, 17, 1, 0, tzinfo=UTC)
    assert process(None) is None


@pytest.mark.parametrize(
    "stored",
    [
        "2017-03-17 01:00:00.000000",  # as UTCDateTime writes it
        "2017-03-17 01:00:00",
        "2017-03-17T01:00:00",
        "2017-03-17 09:00:00+08:00",  # text with an offset of its own (written by hand)
        datetime(2017, 3, 17, 1, 0),  # a driver that gives datetimes
    ],
)
def test_sqlite_values_come_back_aware_in_utc_whatever_their_text(stored):
    process = UTCDateTime().result_processor(sqlite.dialect(), None)
    value = process(stored)
    assert value.tzinfo is UTC
    assert value == datetime(2017, 3, 17, 1, 0, tzinfo=UTC)
    assert process(None) is None
