"""iCalendar (RFC 5545): one VEVENT per public scheduled session, with the event's VTIMEZONE.

Built with the ``icalendar`` package. Times are written in the event's timezone (``TZID``),
whose ``VTIMEZONE`` icalendar derives from the IANA database over the years the sessions
span. Each session keeps its ``UID`` across exports (derived from the event's identifier and
the session's id). ``SEQUENCE`` is the number of seconds between the session's creation and
its last change: it grows with every change, as RFC 5545 wants, without a counter of its own.
``DTSTAMP`` is the session's last change too, so the same program gives the same bytes (and the
same ETag). Each VEVENT is rendered once per distinct content (a cache keyed by every value
it is written from), so a feed rebuild after one edit renders that session again, not all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import BinaryIO
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone
from icalendar import Event as VEvent

from openevent_exports.formats.values import event_tz, guid, local, plain_text
from openevent_exports.snapshot import Program

PRODID = "-//openevent//openevent-exports//EN"


def session_uid(event: dict, session_id: int) -> str:
    return f"{guid(event, 'session', session_id)}@openevent"


def sequence(session: dict) -> int:
    return int((session["last_modified_at"] - session["created_at"]).total_seconds())


class CalendarParts:
    """A calendar as its head (properties and VTIMEZONE) and its VEVENTs, each rendered once.

    What ``icalendar.Calendar.to_ical`` and ``to_jcal`` give for the whole calendar, assembled
    from the parts: a feed rebuild after one edit renders one session again, not all of them.
    """

    def __init__(self, head: Calendar, events: list[_Rendered]):
        self.head, self.events = head, events

    def to_ical(self) -> bytes:
        head = self.head.to_ical()
        end = b"END:VCALENDAR\r\n"
        return head[: -len(end)] + b"".join(event.ical for event in self.events) + end

    def to_jcal(self) -> list:
        name, properties, components = self.head.to_jcal()
        return [name, properties, [*components, *(event.jcal for event in self.events)]]


class _Rendered:
    """One session's VEVENT, as iCalendar bytes and (when xCal asks) as jCal."""

    def __init__(self, vevent: VEvent):
        self.vevent, self.ical, self._jcal = vevent, vevent.to_ical(), None

    @property
    def jcal(self) -> list:
        if self._jcal is None:
            self._jcal = self.vevent.to_jcal()
        return self._jcal


@lru_cache(maxsize=20_000)
def _render(key: tuple) -> _Rendered:
    """The VEVENT of ``key``: every value it is written from, so a change of any is a miss."""
    uid, timezone, session_items, room, track, names, url = key
    session, tz = dict(session_items), ZoneInfo(timezone)
    vevent = VEvent()
    vevent.add("uid", uid)
    vevent.add("dtstamp", session["last_modified_at"])
    vevent.add("dtstart", local(session["starts_at"], tz))
    vevent.add("dtend", local(session["ends_at"], tz))
    vevent.add("summary", session["title"])
    abstract = plain_text(session["long_abstract"] or session["short_abstract"])
    description = "\n\n".join(
        part for part in (session["subtitle"], ", ".join(names), abstract) if part
    )
    if description:
        vevent.add("description", description)
    if room is not None:
        vevent.add("location", room)
    if track is not None:
        vevent.add("categories", [track])
    if url:
        vevent.add("url", url)
    vevent.add("created", session["created_at"])
    vevent.add("last-modified", session["last_modified_at"])
    vevent.add("sequence", sequence(session))
    vevent.add("status", "CONFIRMED")
    return _Rendered(vevent)


def build_calendar(program: Program, session_url: Callable[[int], str | None]) -> CalendarParts:
    """The program's calendar (xCal is written from the same parts)."""
    event = program.event
    tz = event_tz(event)
    tracks = {row["id"]: row["name"] for row in program.tracks}
    rooms = {row["id"]: row["name"] for row in program.rooms}
    speakers = {row["id"]: row["name"] for row in program.speakers}
    head = Calendar()
    head.add("prodid", PRODID)
    head.add("version", "2.0")
    head.add("calscale", "GREGORIAN")
    head.add("x-wr-calname", event["name"])
    head.add("x-wr-timezone", event["timezone"])
    scheduled = [s for s in program.sessions if s["starts_at"] and s["ends_at"]]
    if scheduled:
        # VTIMEZONE with the transitions of the years the sessions span (and a year around).
        first = min(s["starts_at"] for s in scheduled).astimezone(tz).date()
        last = max(s["ends_at"] for s in scheduled).astimezone(tz).date()
        head.add_component(
            Timezone.from_tzid(
                event["timezone"],
                first_date=date(first.year - 1, 1, 1),
                last_date=date(last.year + 1, 12, 31),
            )
        )
    events = [
        _render(
            (
                session_uid(event, session["id"]),
                event["timezone"],
                tuple(session.items()),
                rooms.get(session["microlocation_id"]),
                tracks.get(session["track_id"]),
                tuple(speakers[i] for i in program.speaker_ids_of(session["id"])),
                session_url(session["id"]),
            )
        )
        for session in scheduled  # unscheduled sessions have no place in a calendar
    ]
    return CalendarParts(head, events)


def write(program: Program, stream: BinaryIO, writing) -> None:
    stream.write(build_calendar(program, writing.session_url).to_ical())
    writing.progress(100)
