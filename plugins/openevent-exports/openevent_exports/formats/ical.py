"""iCalendar (RFC 5545): one VEVENT per public scheduled session, with the event's VTIMEZONE.

:func:`build_calendar` describes the calendar once, in jCal's shape (RFC 7265: a component is
``(name, properties, components)``, a property ``(name, parameters, value type, values)``)
with Python values; this module writes it as RFC 5545 text and :mod:`.xcal` as RFC 6321 XML,
so both feeds say the same thing. The text is written directly (the ``icalendar`` package,
which the tests use to read it back, took ten times longer): TEXT values escaped, lines ended
by CRLF and folded at 75 octets without cutting a UTF-8 sequence.

Times are written in the event's timezone (``TZID``), whose ``VTIMEZONE`` lists the IANA
database's transitions over the years the sessions span (and one around). Each session keeps
its ``UID`` across exports (derived from the event's identifier and the session's id).
``SEQUENCE`` is the number of seconds between the session's creation and its last change: it
grows with every change, as RFC 5545 wants, without a counter of its own. ``DTSTAMP`` is the
session's last change too, so the same program gives the same bytes (and the same ETag).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import BinaryIO
from zoneinfo import ZoneInfo

from openevent_exports.formats.values import event_tz, guid, plain_text
from openevent_exports.snapshot import Program

PRODID = "-//openevent//openevent-exports//EN"
# A property: (name, parameters or None, value type, values); a component: (name, properties,
# components). Names are lowercase, as jCal and xCal write them.
Property = tuple[str, dict | None, str, tuple]
Component = tuple[str, list[Property], list["Component"]]
# Controls that no iCalendar TEXT may hold (RFC 5545 3.3.11); tab and line breaks are kept.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_OCTETS = 75


def session_uid(event: dict, session_id: int) -> str:
    return f"{guid(event, 'session', session_id)}@openevent"


def sequence(session: dict) -> int:
    return int((session["last_modified_at"] - session["created_at"]).total_seconds())


# The calendar


def _vevent(session: dict, tz, tzid: str, names, room, track, url, uid: str) -> Component:
    """A session's VEVENT; ``names`` are its speakers', ``room`` and ``track`` names or None."""
    abstract = plain_text(session["long_abstract"] or session["short_abstract"])
    description = "\n\n".join(p for p in (session["subtitle"], ", ".join(names), abstract) if p)
    local_tz = {"tzid": tzid}
    properties = [
        ("uid", None, "text", (uid,)),
        ("dtstamp", None, "date-time", (session["last_modified_at"],)),
        ("dtstart", local_tz, "date-time", (_wall(session["starts_at"], tz),)),
        ("dtend", local_tz, "date-time", (_wall(session["ends_at"], tz),)),
        ("summary", None, "text", (session["title"],)),
    ]
    if description:
        properties.append(("description", None, "text", (description,)))
    if room is not None:
        properties.append(("location", None, "text", (room,)))
    if track is not None:
        properties.append(("categories", None, "text", (track,)))
    if url:
        properties.append(("url", None, "uri", (url,)))
    properties += [
        ("created", None, "date-time", (session["created_at"],)),
        ("last-modified", None, "date-time", (session["last_modified_at"],)),
        ("sequence", None, "integer", (sequence(session),)),
        ("status", None, "text", ("CONFIRMED",)),
    ]
    return ("vevent", properties, [])


def _wall(moment: datetime, tz) -> datetime:
    """The local (naive) time of an instant, as written with a TZID."""
    return moment.astimezone(tz).replace(tzinfo=None)


def build_calendar(program: Program, session_url: Callable[[int], str | None]) -> Component:
    """The program's calendar (iCal and xCal are written from it)."""
    event = program.event
    tz, tzid = event_tz(event), event["timezone"]
    tracks = {row["id"]: row["name"] for row in program.tracks}
    rooms = {row["id"]: row["name"] for row in program.rooms}
    speakers = {row["id"]: row["name"] for row in program.speakers}
    properties = [
        ("prodid", None, "text", (PRODID,)),
        ("version", None, "text", ("2.0",)),
        ("calscale", None, "text", ("GREGORIAN",)),
        # Extensions are of type "unknown" (RFC 7265 5): their iCalendar text, escaped as TEXT.
        ("x-wr-calname", None, "unknown", (event["name"],)),
        ("x-wr-timezone", None, "unknown", (tzid,)),
    ]
    # Unscheduled sessions have no place in a calendar.
    scheduled = [s for s in program.sessions if s["starts_at"] and s["ends_at"]]
    components = []
    if scheduled:
        # Transitions over the years the sessions span, and a year around.
        first = min(s["starts_at"] for s in scheduled).astimezone(tz).year - 1
        last = max(s["ends_at"] for s in scheduled).astimezone(tz).year + 1
        components.append(vtimezone(tzid, date(first, 1, 1), date(last, 12, 31)))
    for session in scheduled:
        session_id = session["id"]
        names = [speakers[i] for i in program.speaker_ids_of(session_id)]
        room, track = rooms.get(session["microlocation_id"]), tracks.get(session["track_id"])
        url, uid = session_url(session_id), session_uid(event, session_id)
        components.append(_vevent(session, tz, tzid, names, room, track, url, uid))
    return ("vcalendar", properties, components)


# The timezone


@lru_cache(maxsize=64)
def vtimezone(tzid: str, first: date, last: date) -> Component:
    """The VTIMEZONE of ``tzid`` from ``first`` to ``last``: one STANDARD or DAYLIGHT per kind
    of transition, its first onset as DTSTART and the later ones as RDATE (the ``icalendar``
    package's layout, which the previous writer used).

    An onset is a transition's local time counted in the larger of the two offsets (the first
    wall-clock time that reads in the new offset); the span opens with the offset in force on
    its first day.
    """
    tz = ZoneInfo(tzid)
    end = datetime.combine(last, time())
    observances: dict[tuple, list[datetime]] = {}
    onset = datetime.combine(first, time())
    instant = int(onset.replace(tzinfo=tz).timestamp())
    offset_from = None
    while onset < end:
        local = datetime.fromtimestamp(instant, tz)
        offset_to = local.utcoffset()
        kind = "standard" if not local.dst() else "daylight"
        key = (kind, local.tzname(), offset_from or offset_to, offset_to)
        observances.setdefault(key, []).append(onset)
        instant = _next_transition(tz, instant, end)
        if instant is None:
            break
        offset_from = offset_to
        moment = datetime.fromtimestamp(instant, UTC).replace(tzinfo=None)
        onset = moment + max(offset_from, datetime.fromtimestamp(instant, tz).utcoffset())
    components = []
    for (kind, name, offset_from, offset_to), onsets in observances.items():
        properties = [("dtstart", None, "date-time", (onsets[0],))]
        if len(onsets) > 1:
            properties.append(("rdate", None, "date-time", tuple(onsets[1:])))
        properties += [
            ("tzname", None, "text", (name,)),
            ("tzoffsetfrom", None, "utc-offset", (offset_from,)),
            ("tzoffsetto", None, "utc-offset", (offset_to,)),
        ]
        components.append((kind, properties, []))
    comment = f"This timezone only works from {first} to {last}."
    properties = [("tzid", None, "text", (tzid,)), ("comment", None, "text", (comment,))]
    return ("vtimezone", properties, components)


def _next_transition(tz, instant: int, end: datetime) -> int | None:
    """The first second (POSIX time) after ``instant`` whose offset differs from its, looked for
    a day at a time, then by halving; None if there is none before ``end`` (a day after it)."""
    offset = datetime.fromtimestamp(instant, tz).utcoffset()
    limit = end.replace(tzinfo=UTC).timestamp() + 2 * 86400
    later = instant + 86400
    while datetime.fromtimestamp(later, tz).utcoffset() == offset:
        if later > limit:
            return None
        instant, later = later, later + 86400
    while later - instant > 1:
        middle = (instant + later) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == offset:
            instant = middle
        else:
            later = middle
    return later


# The text


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line breaks as
    ``\\n``, other control characters dropped."""
    if _CONTROLS.search(value):
        value = _CONTROLS.sub("", value)
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\n", "\\n")


def _date_time(value: datetime) -> str:
    """Local (naive) as written with a TZID, or UTC with ``Z``; whole seconds.

    From ``isoformat`` (``2030-07-01T09:00:00``): a third of ``strftime``'s time.
    """
    if value.tzinfo is None:
        return value.isoformat()[:19].replace("-", "").replace(":", "")
    return value.astimezone(UTC).isoformat()[:19].replace("-", "").replace(":", "") + "Z"


def utc_offset(value: timedelta, separator: str = "") -> str:
    """``+0100`` (``+01:00`` with ``separator=":"``); seconds only when there are some."""
    sign, seconds = ("-", -value) if value < timedelta(0) else ("+", value)
    hours, rest = divmod(int(seconds.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02}{separator}{minutes:02}"
    return f"{text}{separator}{seconds:02}" if seconds else text


_VALUES: dict[str, Callable] = {
    "text": escape_text,
    "unknown": escape_text,
    "date-time": _date_time,
    "utc-offset": utc_offset,
    "integer": str,
    "uri": str,
}


def _parameter(value: str) -> str:
    """A parameter value, quoted when it holds a delimiter (a quote it cannot hold)."""
    value = value.replace('"', "")
    return f'"{value}"' if any(c in value for c in ":;,") else value


def fold(line: bytes) -> bytes:
    """A content line with its CRLF, folded into lines of at most 75 octets (a continuation's
    leading space included), never inside a UTF-8 sequence."""
    if len(line) <= _LINE_OCTETS:
        return line + b"\r\n"
    parts, start, width = [], 0, _LINE_OCTETS
    while len(line) - start > width:
        end = start + width
        while line[end] & 0xC0 == 0x80:  # a continuation byte: cut before its sequence
            end -= 1
        parts.append(line[start:end])
        start, width = end, _LINE_OCTETS - 1
    parts.append(line[start:])
    return b"\r\n ".join(parts) + b"\r\n"


def _lines(component: Component, out: list[bytes]) -> None:
    name, properties, components = component
    out.append(f"BEGIN:{name.upper()}\r\n".encode())
    for prop_name, parameters, value_type, values in properties:
        head = prop_name.upper()
        if parameters:
            head += "".join(f";{k.upper()}={_parameter(v)}" for k, v in parameters.items())
        write_value = _VALUES[value_type]
        text = write_value(values[0]) if len(values) == 1 else ",".join(map(write_value, values))
        line = f"{head}:{text}".encode()
        out.append(line + b"\r\n" if len(line) <= _LINE_OCTETS else fold(line))
    for child in components:
        _lines(child, out)
    out.append(f"END:{name.upper()}\r\n".encode())


def to_ical(calendar: Component) -> bytes:
    out: list[bytes] = []
    _lines(calendar, out)
    return b"".join(out)


def write(program: Program, stream: BinaryIO, writing) -> None:
    stream.write(to_ical(build_calendar(program, writing.session_url)))
    writing.progress(100)
