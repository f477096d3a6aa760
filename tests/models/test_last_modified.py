from datetime import UTC, datetime

from sqlalchemy import text

from openevent.testing import make_event, make_session, make_speaker

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def _stored(db_connection, table, row_id):
    value = db_connection.execute(
        text(f"SELECT last_modified_at FROM {table} WHERE id = :id"), {"id": row_id}
    ).scalar_one()
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _aged_session(dbsession, db_connection):
    session = make_session(dbsession, make_event(dbsession), title="Keynote")
    db_connection.execute(
        text("UPDATE sessions SET last_modified_at = :t WHERE id = :id"),
        {
            "t": "2020-01-01 00:00:00" if db_connection.dialect.name == "sqlite" else LONG_AGO,
            "id": session.id,
        },
    )
    dbsession.expire_all()
    return session


def test_a_real_change_moves_last_modified_at_and_is_stored(dbsession, db_connection):
    session = _aged_session(dbsession, db_connection)
    session.title = "Opening keynote"
    dbsession.flush()
    assert _stored(db_connection, "sessions", session.id).year > 2020


def test_assigning_the_same_value_is_not_a_change(dbsession, db_connection):
    session = _aged_session(dbsession, db_connection)
    session.title = "Keynote"
    dbsession.flush()
    assert _stored(db_connection, "sessions", session.id).year == 2020


def test_changing_speakers_is_a_change(dbsession, db_connection):
    session = _aged_session(dbsession, db_connection)
    session.speakers.append(make_speaker(dbsession, session.event))
    dbsession.flush()
    assert _stored(db_connection, "sessions", session.id).year > 2020


def test_untouched_rows_keep_their_time(dbsession, db_connection):
    session = _aged_session(dbsession, db_connection)
    other = make_session(dbsession, session.event, title="Other")
    other.title = "Other talk"
    dbsession.flush()
    assert _stored(db_connection, "sessions", session.id).year == 2020
