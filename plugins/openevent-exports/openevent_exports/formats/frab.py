"""frab's schedule, as XML (``schedule.xml``) and JSON (``schedule.json``).

The format conference apps read (Giggity, EventFahrplan, the CCC apps), checked against the
c3voc schema of each. The schedule is built once as the JSON document; the XML is written from
it as text (escaped, the characters XML 1.0 forbids dropped). Days are the event's local
dates, a day running from the ``day-change-hour`` (default 4:00, so a session at 1:00 after
midnight belongs to the evening before, as apps expect) to the same hour the next
date; every day lists every room, in the organizers' order. Sessions without a room are listed
under :data:`NO_ROOM`. Identifiers (``guid``) are stable UUIDs; persons are the session's
speakers, linked by id and guid.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import BinaryIO

import orjson

from openevent_exports.formats.values import (
    event_tz,
    guid,
    local,
    plain_text,
    slugify,
    xml_attribute,
    xml_text,
)
from openevent_exports.snapshot import Program

VERSION_PREFIX = "openevent"
NO_ROOM = "Unassigned"
TIMESLOT = "00:05"
_ZONE_NAME = re.compile(r"^([A-Z][a-z]+/[A-Z][a-z]+)|UTC$")  # what the JSON schema allows


def _acronym(event: dict) -> str:
    acronym = slugify(event["identifier"], "event").replace("-", "_")
    return acronym if len(acronym) >= 4 else acronym.ljust(4, "_")


def _hhmm(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_of(moment: datetime, tz, day_change: int) -> date:
    return (local(moment, tz) - timedelta(hours=day_change)).date()


def _day_bound(day: date, tz, day_change: int) -> datetime:
    return datetime.combine(day, time(day_change), tzinfo=tz)


def schedule(program: Program, writing) -> dict:
    """The frab JSON document of the program."""
    event = program.event
    tz = event_tz(event)
    day_change = writing.options.get("day-change-hour", 4)
    acronym = _acronym(event)
    tracks = {row["id"]: row for row in program.tracks}
    speakers = {row["id"]: row for row in program.speakers}
    room_names = {row["id"]: row["name"] for row in program.rooms}

    first = _day_of(event["starts_at"], tz, day_change)
    last = max(first, _day_of(event["ends_at"] - timedelta(microseconds=1), tz, day_change))
    days_of_sessions: dict[date, list[dict]] = {}
    for session in program.sessions:
        if session["starts_at"] is None or session["ends_at"] is None:
            continue
        day = _day_of(session["starts_at"], tz, day_change)
        days_of_sessions.setdefault(day, []).append(session)
    dates = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    dates = sorted(set(dates) | set(days_of_sessions))

    rooms = [row["name"] for row in program.rooms]
    if any(s["microlocation_id"] not in room_names for s in program.sessions):
        rooms.append(NO_ROOM)

    def person(speaker_id: int) -> dict:
        speaker = speakers[speaker_id]
        return {
            "id": speaker["id"],
            "guid": guid(event, "speaker", speaker["id"]),
            "public_name": speaker["name"],
        }

    def entry(session: dict) -> dict:
        starts = local(session["starts_at"], tz)
        track = tracks.get(session["track_id"])
        session_guid = guid(event, "session", session["id"])
        starts_iso = starts.isoformat()
        return {
            "guid": session_guid,
            "id": session["id"],
            "date": starts_iso,
            "start": starts_iso[11:16],
            "duration": _hhmm(session["ends_at"] - session["starts_at"]),
            "room": room_names.get(session["microlocation_id"], NO_ROOM),
            "slug": f"{acronym}-{session['id']}-{slugify(session['title'], 'session')}",
            "url": writing.session_url(session["id"]) or f"urn:uuid:{session_guid}",
            "title": session["title"],
            "subtitle": session["subtitle"] or "",
            "track": track["name"] if track else None,
            "type": "talk",
            "language": session["language"],
            "abstract": plain_text(session["short_abstract"]),
            "description": plain_text(session["long_abstract"]),
            "persons": [person(i) for i in program.speaker_ids_of(session["id"])],
            "links": [],
        }

    days = []
    for index, day in enumerate(dates, start=1):
        by_room: dict[str, list[dict]] = {name: [] for name in rooms}
        for session in sorted(
            days_of_sessions.get(day, []), key=lambda s: (s["starts_at"], s["id"])
        ):
            item = entry(session)
            by_room[item["room"]].append(item)
        days.append(
            {
                "index": index,
                "date": day.isoformat(),
                "day_start": _day_bound(day, tz, day_change).isoformat(),
                "day_end": _day_bound(day + timedelta(days=1), tz, day_change).isoformat(),
                "rooms": by_room,
            }
        )
    conference = {
        "acronym": acronym,
        "title": event["name"],
        "start": local(event["starts_at"], tz).date().isoformat(),
        "end": local(event["ends_at"], tz).date().isoformat(),
        "daysCount": len(days),
        "timeslot_duration": TIMESLOT,
        "rooms": [{"name": name, "guid": guid(event, "room", name)} for name in rooms],
        "tracks": [
            {"name": track["name"], **({"color": track["color"]} if track["color"] else {})}
            for track in program.tracks
        ],
        "days": days,
    }
    if _ZONE_NAME.match(event["timezone"]):
        conference["time_zone_name"] = event["timezone"]
    if event["description"]:
        conference["description"] = plain_text(event["description"])
    if writing.base_url:
        conference["url"] = f"{writing.base_url}/v1/events/{event['id']}"
    version = f"{VERSION_PREFIX}-{program.last_modified.strftime('%Y%m%dT%H%M%S%fZ')}"
    return {"schedule": {"version": version, "conference": conference}}


def to_json(document: dict) -> bytes:
    return orjson.dumps(document)


def write_json(program: Program, stream: BinaryIO, writing) -> None:
    stream.write(to_json(schedule(program, writing)))
    writing.progress(100)


def write_xml(program: Program, stream: BinaryIO, writing) -> None:
    stream.write(to_xml(schedule(program, writing), program.event["timezone"]))
    writing.progress(100)


def _element(name: str, value, pad: str) -> str:
    """One line of the XML: ``<name>value</name>`` (empty for None), indented by ``pad``."""
    return f"{pad}<{name}>{'' if value is None else xml_text(value)}</{name}>\n"


def _attributes(**values) -> str:
    return "".join(f' {name}="{xml_attribute(value)}"' for name, value in values.items())


# The elements of an event in frab's order (the schema's sequence), before its persons.
_EVENT_ELEMENTS = (
    "room",
    "title",
    "subtitle",
    "type",
    "date",
    "start",
    "duration",
    "abstract",
    "slug",
    "track",
    "language",
    "description",
)


def _event_xml(item: dict, out: list[str]) -> None:
    pad = " " * 8
    out.append(f"      <event{_attributes(guid=item['guid'], id=item['id'])}>\n")
    out += [_element(name, item[name], pad) for name in _EVENT_ELEMENTS]
    if item["persons"]:
        out.append(f"{pad}<persons>\n")
        for person in item["persons"]:
            tag = _attributes(id=person["id"], guid=person["guid"])
            out.append(f"{pad}  <person{tag}>{xml_text(person['public_name'])}</person>\n")
        out.append(f"{pad}</persons>\n")
    else:
        out.append(f"{pad}<persons/>\n")
    if not item["url"].startswith("urn:"):
        out.append(_element("url", item["url"], pad))
    out.append("      </event>\n")


def to_xml(document: dict, timezone: str) -> bytes:
    """The schedule document (:func:`schedule`) as frab's XML, indented two spaces a level."""
    document = document["schedule"]
    conference = document["conference"]
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>\n<schedule>\n",
        '  <generator name="openevent-exports"/>\n',
        _element("version", document["version"], "  "),
        "  <conference>\n",
    ]
    pad = "    "
    out += [_element(name, conference[name], pad) for name in ("title", "acronym", "start", "end")]
    out.append(_element("days", conference["daysCount"], pad))
    out.append(_element("timeslot_duration", conference["timeslot_duration"], pad))
    if "url" in conference:
        out.append(_element("url", conference["url"], pad))
    out.append(_element("time_zone_name", timezone, pad))
    out += [f"{pad}<track{_attributes(**track)}/>\n" for track in conference["tracks"]]
    out.append("  </conference>\n")
    room_guids = {room["name"]: room["guid"] for room in conference["rooms"]}
    for day in conference["days"]:
        bounds = _attributes(
            index=day["index"], date=day["date"], start=day["day_start"], end=day["day_end"]
        )
        out.append(f"  <day{bounds}>\n")
        for room_name, items in day["rooms"].items():
            room = _attributes(name=room_name, guid=room_guids[room_name])
            if not items:
                out.append(f"    <room{room}/>\n")
                continue
            out.append(f"    <room{room}>\n")
            for item in items:
                _event_xml(item, out)
            out.append("    </room>\n")
        out.append("  </day>\n")
    out.append("</schedule>\n")
    return "".join(out).encode()
