"""The program snapshot every format is written from: one query per table, plain values.

:func:`load_program` reads an event, its tracks, rooms, sessions, speakers and the links
between sessions and speakers, one ``SELECT`` each, as dicts keyed by column name (no ORM
instances: the formats run after the transaction, in a job or a command). What goes out is
declared once, in :data:`COLUMNS`: adding a column of the model to an export is one line there
(the Open Event zip writes every loaded column under its dasherized name).

The public filter lives here and nowhere else (:func:`load_program` with ``public=True``):
the event published and not trashed; sessions accepted or confirmed, scheduled (both times
set) and not trashed; speakers not trashed and speaking in one of those sessions; no speaker's
e-mail address. Team exports (``public=False``) keep every session that is not trashed, with
its state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from openevent.models import (
    Event,
    EventState,
    Microlocation,
    Session,
    SessionState,
    SessionType,
    SocialLink,
    Speaker,
    Sponsor,
    Track,
    session_speakers,
)

PUBLIC_SESSION_STATES = (SessionState.ACCEPTED, SessionState.CONFIRMED)
# Never in a public feed, whatever else a speaker shows.
PRIVATE_SPEAKER_COLUMNS = frozenset({"email"})

# What each collection loads, by column name. One line per attribute that an export carries.
COLUMNS: dict[str, tuple] = {
    "event": (
        Event.id,
        Event.identifier,
        Event.name,
        Event.description,
        Event.starts_at,
        Event.ends_at,
        Event.timezone,
        Event.state,
        Event.location_name,
        Event.logo_url,
        Event.original_image_url,
        Event.latitude,
        Event.longitude,
        Event.email,
        Event.organizer_name,
        Event.organizer_description,
        Event.code_of_conduct,
        Event.external_event_url,
        Event.ticket_url,
        Event.privacy,
        Event.schedule_published_on,
        Event.copyright_holder,
        Event.copyright_holder_url,
        Event.copyright_licence,
        Event.copyright_licence_url,
        Event.copyright_year,
        Event.copyright_logo_url,
        Event.created_at,
        Event.last_modified_at,
    ),
    "tracks": (
        Track.id,
        Track.name,
        Track.color,
        Track.font_color,
        Track.description,
        Track.last_modified_at,
    ),
    "microlocations": (
        Microlocation.id,
        Microlocation.name,
        Microlocation.position,
        Microlocation.floor,
        Microlocation.room,
        Microlocation.latitude,
        Microlocation.longitude,
        Microlocation.last_modified_at,
    ),
    "sessions": (
        Session.id,
        Session.title,
        Session.subtitle,
        Session.short_abstract,
        Session.long_abstract,
        Session.language,
        Session.level,
        Session.state,
        Session.starts_at,
        Session.ends_at,
        Session.track_id,
        Session.microlocation_id,
        Session.session_type_id,
        Session.slides_url,
        Session.video_url,
        Session.audio_url,
        Session.signup_url,
        Session.created_at,
        Session.last_modified_at,
    ),
    "speakers": (
        Speaker.id,
        Speaker.name,
        Speaker.email,
        Speaker.photo_url,
        Speaker.organisation,
        Speaker.short_biography,
        Speaker.long_biography,
        Speaker.position,
        Speaker.country,
        Speaker.city,
        Speaker.is_featured,
        Speaker.facebook,
        Speaker.website,
        Speaker.twitter,
        Speaker.github,
        Speaker.linkedin,
        Speaker.created_at,
        Speaker.last_modified_at,
    ),
    "session_types": (SessionType.id, SessionType.name, SessionType.length_minutes),
    "sponsors": (
        Sponsor.id,
        Sponsor.name,
        Sponsor.description,
        Sponsor.url,
        Sponsor.level,
        Sponsor.sponsor_type,
        Sponsor.logo_url,
    ),
    "social_links": (SocialLink.id, SocialLink.name, SocialLink.link),
}


class EventNotFound(LookupError):
    """The event does not exist, or (for a public snapshot) the public may not see it."""


@dataclass
class Program:
    """An event's program as plain values: each row a dict of :data:`COLUMNS`' names.

    ``sessions`` and ``speakers`` are in id order; ``rooms`` in the organizers' order
    (``position``, then id); ``links`` the (session id, speaker id) pairs between the loaded
    sessions and speakers, in session order then speaker id.
    """

    event: dict
    tracks: list[dict]
    rooms: list[dict]
    sessions: list[dict]
    speakers: list[dict]
    links: list[tuple[int, int]]
    public: bool
    # By id: session types, sponsors and the event's social links (loaded for team exports).
    session_types: list[dict] = field(default_factory=list)
    sponsors: list[dict] = field(default_factory=list)
    social_links: list[dict] = field(default_factory=list)
    _by_session: dict[int, list[int]] = field(default_factory=dict, repr=False)
    _by_speaker: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        for session_id, speaker_id in self.links:
            self._by_session.setdefault(session_id, []).append(speaker_id)
            self._by_speaker.setdefault(speaker_id, []).append(session_id)

    def speaker_ids_of(self, session_id: int) -> list[int]:
        return self._by_session.get(session_id, [])

    def session_ids_of(self, speaker_id: int) -> list[int]:
        return self._by_speaker.get(speaker_id, [])

    @property
    def last_modified(self) -> datetime:
        """The latest ``last_modified_at`` of the rows loaded."""
        rows = (self.event, *self.tracks, *self.rooms, *self.sessions, *self.speakers)
        return max(row["last_modified_at"] for row in rows)


def _rows(dbsession: DBSession, statement) -> list[dict]:
    """The rows of a Core statement as dicts, run on the session's connection (the ORM's
    execution path would add its own bookkeeping to every row)."""
    result = dbsession.connection().execute(statement)
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def load_program(dbsession: DBSession, event_id: int, *, public: bool) -> Program:
    """The program of ``event_id``: what the public may see, or the team's whole program.

    Raises :class:`EventNotFound` if the event is gone (or, for ``public``, not published or
    trashed). Six statements whatever the size of the program, three more (session types,
    sponsors, social links) for a team export.
    """
    event_query = select(*COLUMNS["event"]).where(Event.id == event_id)
    if public:
        event_query = event_query.where(
            Event.state == EventState.PUBLISHED, Event.deleted_at.is_(None)
        )
    events = _rows(dbsession, event_query)
    if not events:
        raise EventNotFound(event_id)

    tracks = _rows(
        dbsession, select(*COLUMNS["tracks"]).where(Track.event_id == event_id).order_by(Track.id)
    )
    rooms = _rows(
        dbsession,
        select(*COLUMNS["microlocations"])
        .where(Microlocation.event_id == event_id)
        .order_by(Microlocation.position, Microlocation.id),
    )
    session_filter = [Session.event_id == event_id, Session.deleted_at.is_(None)]
    if public:
        session_filter += [
            Session.state.in_(PUBLIC_SESSION_STATES),
            Session.starts_at.is_not(None),
            Session.ends_at.is_not(None),
        ]
    sessions = _rows(
        dbsession, select(*COLUMNS["sessions"]).where(*session_filter).order_by(Session.id)
    )
    speaker_columns = COLUMNS["speakers"]
    if public:
        speaker_columns = tuple(c for c in speaker_columns if c.key not in PRIVATE_SPEAKER_COLUMNS)
    speakers = _rows(
        dbsession,
        select(*speaker_columns)
        .where(Speaker.event_id == event_id, Speaker.deleted_at.is_(None))
        .order_by(Speaker.id),
    )
    links_query = (
        select(session_speakers.c.session_id, session_speakers.c.speaker_id)
        .join(Session, Session.id == session_speakers.c.session_id)
        .where(Session.event_id == event_id)
        .order_by(session_speakers.c.session_id, session_speakers.c.speaker_id)
    )
    link_rows = dbsession.connection().execute(links_query).all()
    session_ids = {row["id"] for row in sessions}
    speaker_ids = {row["id"] for row in speakers}
    links = [
        (session_id, speaker_id)
        for session_id, speaker_id in link_rows
        if session_id in session_ids and speaker_id in speaker_ids
    ]
    if public:
        # Only the people of the public program: a speaker of rejected talks stays private.
        speaking = {speaker_id for _, speaker_id in links}
        speakers = [row for row in speakers if row["id"] in speaking]
    program = Program(events[0], tracks, rooms, sessions, speakers, links, public)
    if not public:
        for name, model in (
            ("session_types", SessionType),
            ("sponsors", Sponsor),
            ("social_links", SocialLink),
        ):
            query = select(*COLUMNS[name]).where(model.event_id == event_id).order_by(model.id)
            setattr(program, name, _rows(dbsession, query))
    return program
