from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from openevent.models import Event, EventRole, EventState, EventType, Role
from openevent.models.event import slugify_event_type
from openevent.testing import make_event, make_user


def test_unknown_timezone_is_refused():
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus'"):
        Event(name="x", timezone="Mars/Olympus")


def test_timezone_gives_local_times(dbsession):
    event = make_event(dbsession, timezone="America/Los_Angeles")
    local = event.starts_at.astimezone(event.tzinfo)
    assert local.utcoffset().total_seconds() in (-7 * 3600, -8 * 3600)


def test_identifier_is_generated_short_and_unique(dbsession):
    first, second = make_event(dbsession), make_event(dbsession)
    assert first.identifier != second.identifier
    assert 0 < len(first.identifier) <= 16


def test_identifier_is_unique_in_the_database(dbsession):
    first = make_event(dbsession)
    with pytest.raises(IntegrityError):
        make_event(dbsession, identifier=first.identifier)


def test_ends_after_start_is_a_database_constraint(dbsession):
    with pytest.raises(IntegrityError, match=r"(?i)ends_after_start|check"):
        make_event(
            dbsession,
            starts_at=datetime(2030, 1, 2, tzinfo=UTC),
            ends_at=datetime(2030, 1, 1, tzinfo=UTC),
        )


def test_state_defaults_to_draft_and_is_stored_by_value(dbsession, db_connection):
    event = make_event(dbsession)
    assert event.state is EventState.DRAFT
    stored = db_connection.execute(text("SELECT state FROM events")).scalar_one()
    assert stored == "draft"


def test_state_outside_the_enum_is_refused_by_the_database(dbsession, db_connection):
    event = make_event(dbsession)
    with pytest.raises(IntegrityError):
        db_connection.execute(
            text("UPDATE events SET state = 'archived' WHERE id = :id"), {"id": event.id}
        )


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Conference", "conference"),
        ("Camp, Trip & Retreat", "camp-trip-retreat"),
        ("Seminar, Talk", "seminar-talk"),
        ("Class  Training & Workshop", "class-training-workshop"),
    ],
)
def test_event_type_slug(name, slug):
    assert slugify_event_type(name) == slug
    assert EventType(name=name).slug == slug


def test_event_type_slug_follows_renames_and_is_unique(dbsession):
    meetup = EventType(name="Meetup")
    dbsession.add(meetup)
    dbsession.flush()
    meetup.name = "Networking Meetup"
    assert meetup.slug == "networking-meetup"
    dbsession.add(EventType(name="networking meetup"))
    with pytest.raises(IntegrityError):
        dbsession.flush()


def test_roles_are_unique_per_user_and_event(dbsession):
    owner = make_user(dbsession)
    event = make_event(dbsession, owner=owner)
    dbsession.add(EventRole(event=event, user=owner, role=Role.ORGANIZER))
    with pytest.raises(IntegrityError):
        dbsession.flush()


def test_deleting_an_event_row_removes_its_roles(dbsession, db_connection):
    event = make_event(dbsession, owner=make_user(dbsession))
    db_connection.execute(text("DELETE FROM events WHERE id = :id"), {"id": event.id})
    assert db_connection.execute(text("SELECT count(*) FROM event_roles")).scalar_one() == 0
