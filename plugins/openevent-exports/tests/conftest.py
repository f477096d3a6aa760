"""Fixtures of the exports plugin's tests, on top of openevent.testing's."""

from datetime import UTC, datetime

import pytest

from openevent.models import EventRole, EventState, Microlocation, Role, SessionState, Track
from openevent.testing import JSONAPI_HEADERS, make_event, make_session, make_speaker, make_user


@pytest.fixture
def owner(dbsession):
    return make_user(dbsession, password=None)


@pytest.fixture
def headers(token_for, owner):
    """JSON:API request headers with the owner's token."""
    return {**token_for(owner), **JSONAPI_HEADERS}


@pytest.fixture
def event(dbsession, owner):
    return make_event(
        dbsession,
        owner=owner,
        state=EventState.PUBLISHED,
        name="Sommerfest",
        timezone="Europe/Berlin",
        starts_at=datetime(2030, 7, 1, 6, 0, tzinfo=UTC),
        ends_at=datetime(2030, 7, 3, 18, 0, tzinfo=UTC),
    )


@pytest.fixture
def team_member(dbsession, event):
    """``team_member(role)``: a user with ``role`` on the event's team."""

    def _member(role: Role):
        user = make_user(dbsession, password=None)
        dbsession.add(EventRole(event=event, user=user, role=role))
        dbsession.flush()
        return user

    return _member


@pytest.fixture
def program(dbsession, event):
    """A small program: two rooms (in the organizers' order, not by id), a track, public and
    private sessions, and speakers, one of them only in a rejected session."""
    hall = Microlocation(event=event, name="Hall B", position=2)
    stage = Microlocation(event=event, name="Stage A", position=1)
    track = Track(event=event, name="Science", color="#336699")
    dbsession.add_all([hall, stage, track])
    dbsession.flush()
    ada = make_speaker(
        dbsession,
        event,
        name="Ada Lovelace",
        email="ada@example.org",
        short_biography="<p>Math</p>",
    )
    grace = make_speaker(dbsession, event, name="Grace Hopper", email="grace@example.org")
    hidden = make_speaker(dbsession, event, name="Hidden Person", email="hidden@example.org")
    keynote = make_session(
        dbsession,
        event,
        title="Opening keynote",
        state=SessionState.CONFIRMED,
        starts_at=datetime(2030, 7, 1, 7, 0, tzinfo=UTC),  # 09:00 in Berlin
        ends_at=datetime(2030, 7, 1, 8, 0, tzinfo=UTC),
        microlocation=hall,
        track=track,
        short_abstract="<p>Welcome <b>all</b></p>",
    )
    late = make_session(
        dbsession,
        event,
        title="Late night hacking",
        state=SessionState.ACCEPTED,
        starts_at=datetime(2030, 7, 1, 23, 30, tzinfo=UTC),  # 01:30 on July 2nd in Berlin
        ends_at=datetime(2030, 7, 2, 0, 30, tzinfo=UTC),
        microlocation=stage,
    )
    rejected = make_session(
        dbsession,
        event,
        title="Rejected talk",
        state=SessionState.REJECTED,
        starts_at=datetime(2030, 7, 2, 9, 0, tzinfo=UTC),
        ends_at=datetime(2030, 7, 2, 10, 0, tzinfo=UTC),
    )
    unscheduled = make_session(dbsession, event, title="Unscheduled", state=SessionState.ACCEPTED)
    keynote.speakers = [ada, grace]
    late.speakers = [grace]
    rejected.speakers = [hidden]
    unscheduled.speakers = [hidden]
    dbsession.flush()
    return {
        "rooms": (stage, hall),
        "track": track,
        "speakers": (ada, grace, hidden),
        "sessions": (keynote, late, rejected, unscheduled),
    }
