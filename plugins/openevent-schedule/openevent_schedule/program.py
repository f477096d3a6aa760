"""What the site shows of an event's program, read in a fixed number of statements.

Sessions are those the public sees through the API (the ``session`` resource's rule:
accepted or confirmed) and not in the trash; speakers are those of such sessions. Rooms and
tracks are read whole first, so a session's room and track come from the session's identity
map, never one query each.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from openevent.api.plugin import registered
from openevent.models import Event, Microlocation, Session, Speaker, Track


def biography(speaker: Speaker) -> str | None:
    """The biography a speaker's page shows (HTML): the long one, or else the short one."""
    return speaker.long_biography or speaker.short_biography or None


def public_speakers(session: Session) -> list[Speaker]:
    """The session's speakers that are not in the trash, by name."""
    speakers = [s for s in session.speakers if s.deleted_at is None]
    return sorted(speakers, key=lambda s: (s.name.casefold(), s.id))


@dataclass
class Program:
    """An event's rooms (in the organizer's order), tracks and public sessions (by start)."""

    event: Event
    rooms: list[Microlocation]
    tracks: list[Track]
    sessions: list[Session]

    @property
    def scheduled(self) -> list[Session]:
        return [s for s in self.sessions if s.starts_at is not None and s.ends_at is not None]


def _public_sessions(event_id: int):
    rule = registered("session").public_clause()
    return select(Session).where(Session.event_id == event_id, Session.deleted_at.is_(None), rule)


def _order(session: Session, room_rank: dict[int | None, int]):
    starts = session.starts_at.timestamp() if session.starts_at else float("inf")
    return (starts, room_rank.get(session.microlocation_id, len(room_rank)), session.title)


def load_program(dbsession, event: Event) -> Program:
    """The rooms, tracks, public sessions and their speakers of ``event``: four statements."""
    rooms = list(
        dbsession.scalars(
            select(Microlocation)
            .where(Microlocation.event_id == event.id)
            .order_by(Microlocation.position, Microlocation.id)
        )
    )
    tracks = list(
        dbsession.scalars(select(Track).where(Track.event_id == event.id).order_by(Track.id))
    )
    sessions = list(
        dbsession.scalars(_public_sessions(event.id).options(selectinload(Session.speakers)))
    )
    rank = {room.id: i for i, room in enumerate(rooms)}
    sessions.sort(key=lambda s: _order(s, rank))
    return Program(event, rooms, tracks, sessions)


def load_session(dbsession, event: Event, session_id: int) -> Session | None:
    """One public session of ``event`` with its speakers, room and track; None if there is
    none the public may see."""
    query = _public_sessions(event.id).where(Session.id == session_id)
    return dbsession.scalar(
        query.options(
            selectinload(Session.speakers),
            selectinload(Session.track),
            selectinload(Session.microlocation),
        )
    )


def _speakers(event: Event, *where):
    public = _public_sessions(event.id).with_only_columns(Session.id)
    return (
        select(Speaker)
        .where(
            Speaker.event_id == event.id,
            Speaker.deleted_at.is_(None),
            Speaker.sessions.any(Session.id.in_(public)),
            *where,
        )
        .options(selectinload(Speaker.sessions))
    )


def load_speakers(dbsession, event: Event) -> list[Speaker]:
    """The event's speakers of at least one public session, by name, with their sessions."""
    speakers = list(dbsession.scalars(_speakers(event)))
    return sorted(speakers, key=lambda s: (s.name.casefold(), s.id))


def load_speaker(dbsession, event: Event, speaker_id: int) -> Speaker | None:
    """One speaker of ``event`` with a public session; None otherwise."""
    return dbsession.scalar(_speakers(event, Speaker.id == speaker_id))


def public_sessions_of(speaker: Speaker) -> list[Session]:
    """The speaker's sessions the public sees, by start."""
    rule = registered("session")
    sessions = [s for s in speaker.sessions if s.deleted_at is None and rule.is_public(s)]
    return sorted(sessions, key=lambda s: (s.starts_at is None, s.starts_at or 0, s.title))
