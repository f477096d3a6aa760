from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from openevent.models import Microlocation, SessionState, Track
from openevent.testing import make_event, make_session, make_speaker

T0 = datetime(2030, 3, 17, 1, 0, tzinfo=UTC)


def test_session_state_defaults_to_draft_and_is_stored_by_value(dbsession, db_connection):
    session = make_session(dbsession, make_event(dbsession), state=SessionState.CONFIRMED)
    assert db_connection.execute(text("SELECT state FROM sessions")).scalar_one() == "confirmed"
    assert make_session(dbsession, session.event).state is SessionState.DRAFT


def test_session_must_end_after_it_starts(dbsession):
    with pytest.raises(IntegrityError):
        make_session(dbsession, make_event(dbsession), starts_at=T0, ends_at=T0)


def test_unscheduled_session_is_allowed(dbsession):
    session = make_session(dbsession, make_event(dbsession))
    assert session.starts_at is None and session.ends_at is None


def test_sessions_and_speakers(dbsession):
    event = make_event(dbsession)
    ada, grace = make_speaker(dbsession, event), make_speaker(dbsession, event, name="Grace")
    talk = make_session(
        dbsession, event, speakers=[ada, grace], starts_at=T0, ends_at=T0 + timedelta(minutes=45)
    )
    dbsession.expire_all()
    assert {s.name for s in talk.speakers} == {"Ada Lovelace", "Grace"}
    assert ada.sessions == [talk]


def test_removing_a_track_unschedules_nothing_else(dbsession, db_connection):
    event = make_event(dbsession)
    track = Track(event=event, name="Python", color="#3572a5")
    room = Microlocation(event=event, name="Hall A", position=1)
    session = make_session(dbsession, event, track=track, microlocation=room)
    db_connection.execute(text("DELETE FROM tracks WHERE id = :id"), {"id": track.id})
    dbsession.expire_all()
    assert session.track is None
    assert session.microlocation.name == "Hall A"


def test_session_cannot_point_to_a_missing_event(dbsession, db_connection):
    with pytest.raises(IntegrityError):
        db_connection.execute(
            text(
                "INSERT INTO sessions (event_id, title, state, created_at, "
                "last_modified_at) VALUES (999999, 't', 'draft', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )


def _stored_preview(db_connection, session) -> str | None:
    query = text("SELECT abstract_preview FROM sessions WHERE id = :id")
    return db_connection.execute(query, {"id": session.id}).scalar_one()


def test_the_abstract_preview_is_stored_whenever_an_abstract_is_written(dbsession, db_connection):
    # Written through the ORM, as a plugin or an import would, not through the API.
    session = make_session(dbsession, make_event(dbsession), long_abstract="<p>Long &amp; deep</p>")
    assert _stored_preview(db_connection, session) == "Long & deep"
    session.short_abstract = "<b>Short</b> one"
    dbsession.flush()
    assert _stored_preview(db_connection, session) == "Short one"
    session.short_abstract = None
    dbsession.flush()
    assert _stored_preview(db_connection, session) == "Long & deep"
    # Assigned while unloaded, as after a commit: still recomputed from what is stored now.
    dbsession.expire(session)
    session.long_abstract = "<p>Rewritten</p>"
    dbsession.flush()
    assert _stored_preview(db_connection, session) == "Rewritten"
    session.long_abstract = None
    dbsession.flush()
    assert _stored_preview(db_connection, session) is None


def test_a_session_without_abstracts_has_no_preview(dbsession, db_connection):
    session = make_session(dbsession, make_event(dbsession))
    assert _stored_preview(db_connection, session) is None
    session.title = "Renamed"
    dbsession.flush()
    assert _stored_preview(db_connection, session) is None


def test_the_preview_is_not_recomputed_when_the_abstracts_do_not_change(dbsession, monkeypatch):
    session = make_session(dbsession, make_event(dbsession), short_abstract="<p>Kept</p>")
    monkeypatch.setattr(
        "openevent.previews.plain_text", lambda markup: pytest.fail("recomputed the preview")
    )
    session.title = "Renamed"
    session.short_abstract = "<p>Kept</p>"  # the same value
    dbsession.flush()
    assert session.abstract_preview == "Kept"
