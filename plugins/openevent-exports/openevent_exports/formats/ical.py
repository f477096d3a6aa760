"""iCalendar (RFC 5545): one VEVENT per public scheduled session, with the event's VTIMEZONE.

Built with the ``icalendar`` package. Times are written in the event's timezone (``TZID``),
whose ``VTIMEZONE`` icalendar derives from the IANA database over the years the sessions
span. Each session keeps its ``UID`` across exports (derived from the event's identifier and
the session's id). ``SEQUENCE`` is the number of seconds between the session's creation and
its last change: it grows with every change, as RFC 5545 wants, without a counter of its own.
``DTSTAMP`` is the session's last change too, so the same program gives the same bytes (and the
same ETag).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from icalendar import Calendar
from icalendar import Event as VEvent

from openevent_exports.formats.values import event_tz, guid, local, plain_text
from openevent_exports.snapshot import Program

PRODID = "-//openevent//openevent-exports//EN"


def session_uid(event: dict, session_id: int) -> str:
    return f"{guid(event, 'session', session_id)}@openevent"


def sequence(session: dict) -> int:
    return int((session["last_modified_at"] - session["created_at"]).total_seconds())


def build_calendar(program: Program, session_url: Callable[[int], str | None]) -> Calendar:
    """The program as an icalendar ``Calendar`` (xCal is written from the same object)."""
    event = program.event
    tz = event_tz(event)
    tracks = {row["id"]: row for row in program.tracks}
    rooms = {row["id"]: row for row in program.rooms}
    speakers = {row["id"]: row for row in program.speakers}
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", event["name"])
    calendar.add("x-wr-timezone", event["timezone"])
    for session in program.sessions:
        if session["starts_at"] is None or session["ends_at"] is None:
            continue  # nothing to put in a calendar (team exports keep unscheduled sessions)
        vevent = VEvent()
        vevent.add("uid", session_uid(event, session["id"]))
        vevent.add("dtstamp", session["last_modified_at"])
        vevent.add("dtstart", local(session["starts_at"], tz))
        vevent.add("dtend", local(session["ends_at"], tz))
        vevent.add("summary", session["title"])
        names = [speakers[i]["name"] for i in program.speaker_ids_of(session["id"])]
        abstract = plain_text(session["long_abstract"] or session["short_abstract"])
        description = "\n\n".join(
            part for part in (session["subtitle"], ", ".join(names), abstract) if part
        )
        if description:
            vevent.add("description", description)
        room = rooms.get(session["microlocation_id"])
        if room is not None:
            vevent.add("location", room["name"])
        track = tracks.get(session["track_id"])
        if track is not None:
            vevent.add("categories", [track["name"]])
        url = session_url(session["id"])
        if url:
            vevent.add("url", url)
        vevent.add("created", session["created_at"])
        vevent.add("last-modified", session["last_modified_at"])
        vevent.add("sequence", sequence(session))
        vevent.add("status", "CONFIRMED")
        calendar.add_component(vevent)
    starts = [s["starts_at"] for s in program.sessions if s["starts_at"] is not None]
    ends = [s["ends_at"] for s in program.sessions if s["ends_at"] is not None]
    if starts:
        # VTIMEZONE with the transitions of the years the sessions span (and a year around).
        first = min(starts).astimezone(tz).date().replace(month=1, day=1)
        last = max(ends).astimezone(tz).date().replace(month=12, day=31)
        calendar.add_missing_timezones(
            first_date=first.replace(year=first.year - 1),
            last_date=last.replace(year=last.year + 1),
        )
    return calendar


def write(program: Program, stream: BinaryIO, writing) -> None:
    stream.write(build_calendar(program, writing.session_url).to_ical())
    writing.progress(100)
