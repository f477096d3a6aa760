"""Benchmark the exports plugin: each format against its floor, and how fresh the feeds stay.

    python bench/exports.py [--database-url URL] [--redis-url URL] [--rounds 11]

An event of 1,000 sessions (each with one to three of 300 speakers, in 8 rooms and 10 tracks)
is written in every format, the same way the export job does (the snapshot, one query per
table, then the format's writer into a temporary file). Each format's floor reads the same rows
with one query per table through the bare DB-API cursor and writes the same bytes with no
framework: a short hand-written writer per format below (f-strings, the csv module, orjson,
zipfile), checked byte for byte against ours (member by member for zips) before anything is
timed. Markup becomes plain text and titles slugs through the same small helpers
(``values.plain_text`` on lxml, ``values.slugify``: the same work by any route); everything
else in the floor is its own, written for what this bench exports (no ``exports.public_url``
links, no media, the default options). Runs are interleaved (ours,
floor, ours, floor...) and the medians compared; both start cold (ours with the formats'
caches emptied, the floor with nothing to reuse).

Then freshness: a session's title is committed and the time until the feeds hold it (the
rebuild job's commit) is measured, 20 times, with the app's worker as it runs on the embedded
default (the stub broker's in-process worker), or, with --redis-url, a Redis broker and a
Dramatiq worker as ``openevent worker`` runs it.

Defaults come from OPENEVENT_TEST_DATABASE_URL and OPENEVENT_TEST_REDIS_URL (a SQLite file and
the stub broker when unset); one ``BENCH`` line per format for bench/run_all.py, goal 2x.
"""

import argparse
import bisect
import csv
import gc
import io
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import transaction
from _common import default_database_url, default_redis_url, emit
from alembic import command
from sqlalchemy import select

from openevent.config import configure
from openevent.db import get_tm_session, transaction_scope
from openevent.db.migrations import alembic_config
from openevent.jobs import BROKER_KEY, run_worker, start_in_process_worker
from openevent.models import EventState, Microlocation, Session, SessionState, Speaker, Track
from openevent.testing import make_event, make_user, new_database
from openevent_exports.exporting import write_export
from openevent_exports.formats import FORMATS, ical, values
from openevent_exports.models import FeedState

SESSIONS, SPEAKERS, ROOMS, TRACKS = 1000, 300, 8, 10
GOAL = 2.0  # every format within 2x of its floor (issue 13)

# The floor's queries: the columns the snapshot reads, one statement per table.
_SESSION_COLUMNS = (
    "id, title, subtitle, short_abstract, long_abstract, language, level, state, starts_at, "
    "ends_at, track_id, microlocation_id, session_type_id, slides_url, video_url, audio_url, "
    "signup_url, created_at, last_modified_at"
)
_SPEAKER_COLUMNS = (
    "photo_url, organisation, short_biography, long_biography, position, country, city, "
    "is_featured, facebook, website, twitter, github, linkedin, created_at, last_modified_at"
)
QUERIES = {
    "event": "SELECT id, identifier, name, description, starts_at, ends_at, timezone, state, "
    "location_name, logo_url, original_image_url, latitude, longitude, email, organizer_name, "
    "organizer_description, code_of_conduct, external_event_url, ticket_url, privacy, "
    "schedule_published_on, copyright_holder, copyright_holder_url, copyright_licence, "
    "copyright_licence_url, copyright_year, copyright_logo_url, created_at, last_modified_at "
    "FROM events WHERE id = {event}",
    "tracks": "SELECT id, name, color, font_color, description, last_modified_at FROM tracks "
    "WHERE event_id = {event} ORDER BY id",
    "rooms": "SELECT id, name, position, floor, room, latitude, longitude, last_modified_at "
    "FROM microlocations WHERE event_id = {event} ORDER BY position, id",
    "sessions": f"SELECT {_SESSION_COLUMNS} FROM sessions "
    "WHERE event_id = {event} AND deleted_at IS NULL ORDER BY id",
    "speakers": f"SELECT id, name, email, {_SPEAKER_COLUMNS} FROM speakers "
    "WHERE event_id = {event} AND deleted_at IS NULL ORDER BY id",
    "links": "SELECT ss.session_id, ss.speaker_id FROM session_speakers ss JOIN sessions s "
    "ON s.id = ss.session_id WHERE s.event_id = {event} ORDER BY 1, 2",
    "session_types": "SELECT id, name, length_minutes FROM session_types "
    "WHERE event_id = {event} ORDER BY id",
    "sponsors": "SELECT id, name, description, url, level, sponsor_type, logo_url FROM sponsors "
    "WHERE event_id = {event} ORDER BY id",
    "social_links": "SELECT id, name, link FROM social_links WHERE event_id = {event} ORDER BY id",
}
# The public program: published, sessions accepted or confirmed and scheduled, no e-mail.
PUBLIC_QUERIES = {
    **QUERIES,
    "event": QUERIES["event"] + " AND state = 'published' AND deleted_at IS NULL",
    "sessions": f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE event_id = {{event}} AND "
    "deleted_at IS NULL AND state IN ('accepted', 'confirmed') AND starts_at IS NOT NULL "
    "AND ends_at IS NOT NULL ORDER BY id",
    "speakers": f"SELECT id, name, {_SPEAKER_COLUMNS} FROM speakers "
    "WHERE event_id = {event} AND deleted_at IS NULL ORDER BY id",
}
_TEAM_ONLY = ("session_types", "sponsors", "social_links")
_TIMES = frozenset(
    {"starts_at", "ends_at", "created_at", "last_modified_at", "schedule_published_on"}
)


def _settings(url: str, broker: str) -> dict:
    return {
        "sqlalchemy.url": url,
        "openevent.secret": "benchmark-secret-not-for-production",
        "openevent.broker_url": broker,
        "openevent.storage": "memory",
        "openevent.plugins": "exports",
        "openevent.jobs.redis_namespace": f"openevent-bench-{secrets.token_hex(4)}",
    }


def _populate(registry) -> int:
    rng = random.Random(13)
    start = datetime(2030, 7, 1, 7, 0, tzinfo=UTC)
    with transaction_scope(registry) as dbsession:
        owner = make_user(dbsession, password=None)
        event = make_event(
            dbsession,
            owner=owner,
            state=EventState.PUBLISHED,
            timezone="Europe/Berlin",
            starts_at=start,
            ends_at=start + timedelta(days=4),
        )
        rooms = [Microlocation(event=event, name=f"Room {n}", position=n) for n in range(ROOMS)]
        tracks = [Track(event=event, name=f"Track {n}", color="#336699") for n in range(TRACKS)]
        speakers = [
            Speaker(
                event=event,
                name=f"Speaker {n} Ümlaut",
                email=f"speaker{n}@example.org",
                short_biography=f"<p>Speaker {n} works on <b>things</b>.</p>",
                website="https://example.org",
            )
            for n in range(SPEAKERS)
        ]
        dbsession.add_all([*rooms, *tracks, *speakers])
        for n in range(SESSIONS):
            starts = start + timedelta(minutes=30 * (n // ROOMS) % (4 * 24 * 60))
            session = Session(
                event=event,
                title=f"Session {n}: on exports & feeds",
                short_abstract=f"<p>About {n}, with <i>markup</i> and 'quotes'.</p>",
                long_abstract="<p>" + "A longer abstract. " * 20 + "</p>",
                state=rng.choice([SessionState.ACCEPTED, SessionState.CONFIRMED]),
                starts_at=starts,
                ends_at=starts + timedelta(minutes=25),
                microlocation=rooms[n % ROOMS],
                track=tracks[n % TRACKS],
                language="en",
            )
            session.speakers = rng.sample(speakers, rng.randint(1, 3))
            dbsession.add(session)
        dbsession.flush()
        return event.id


# The floor: reading


def _read(connection, event_id: int, public: bool) -> dict:
    """The program's rows, one query per table: times aware in UTC, booleans as booleans."""
    cursor = connection.cursor()
    program = {}
    for table, query in (PUBLIC_QUERIES if public else QUERIES).items():
        if public and table in _TEAM_ONLY:
            continue
        cursor.execute(query.format(event=int(event_id)))
        names = [column[0] for column in cursor.description]
        times = [name for name in names if name in _TIMES]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        for row in rows:
            for name in times:
                value = row[name]
                if isinstance(value, str):  # SQLite: naive UTC text, read with its offset
                    row[name] = datetime.fromisoformat(value + "+00:00")
                elif value is not None:
                    row[name] = value.astimezone(UTC)
            if "is_featured" in row and row["is_featured"] is not None:
                row["is_featured"] = bool(row["is_featured"])
        program[table] = rows
    program["event"] = program["event"][0]
    if public:  # only the people of the public program
        sessions = {row["id"] for row in program["sessions"]}
        program["links"] = [link for link in program["links"] if link["session_id"] in sessions]
        speaking = {link["speaker_id"] for link in program["links"]}
        program["speakers"] = [row for row in program["speakers"] if row["id"] in speaking]
    program["of_session"], program["of_speaker"] = {}, {}
    for link in program["links"]:
        program["of_session"].setdefault(link["session_id"], []).append(link["speaker_id"])
        program["of_speaker"].setdefault(link["speaker_id"], []).append(link["session_id"])
    program["tz"] = ZoneInfo(program["event"]["timezone"])
    return program


def _iso(moment, tz):
    return None if moment is None else moment.astimezone(tz).isoformat()


def _guid(event: dict, kind: str, row_id) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"openevent:{event['identifier']}/{kind}/{row_id}"))


def _plain(memo: dict, markup) -> str:
    if markup not in memo:
        memo[markup] = values.plain_text.__wrapped__(markup)
    return memo[markup]


# The floor: the Open Event zip and the CSV zip (team formats)


def _dashed(row: dict, tz, skip=()) -> dict:
    return {
        key.replace("_", "-"): (_iso(value, tz) if key in _TIMES else value)
        for key, value in row.items()
        if key not in skip
    }


def floor_open_event(p: dict) -> bytes:
    tz = p["tz"]
    titles = {row["id"]: row["title"] for row in p["sessions"]}
    names = {row["id"]: row["name"] for row in p["speakers"]}
    tracks = {row["id"]: row for row in p["tracks"]}
    rooms = {row["id"]: row for row in p["rooms"]}
    types = {row["id"]: row for row in p["session_types"]}
    event = _dashed(p["event"], tz, [k for k in p["event"] if k.startswith("copyright_")])
    rights = {k[10:].replace("_", "-"): v for k, v in p["event"].items() if k[:10] == "copyright_"}
    event["event-copyright"] = rights if any(v is not None for v in rights.values()) else None
    event["social-links"] = [_dashed(row, tz) for row in p["social_links"]]

    def kind(row):
        minutes = row["length_minutes"]
        length = None if minutes is None else f"{minutes // 60:02}:{minutes % 60:02}"
        return {"id": row["id"], "name": row["name"], "length": length}

    sessions = []
    for row in p["sessions"]:
        doc = _dashed(row, tz, ("track_id", "microlocation_id", "session_type_id"))
        track, room = tracks.get(row["track_id"]), rooms.get(row["microlocation_id"])
        doc["track"] = track and {k: track[k] for k in ("id", "name", "color")}
        doc["microlocation"] = room and {"id": room["id"], "name": room["name"]}
        session_type = types.get(row["session_type_id"])
        doc["session-type"] = session_type and kind(session_type)
        doc["speakers"] = [{"id": i, "name": names[i]} for i in p["of_session"].get(row["id"], [])]
        sessions.append(doc)
    speakers = [
        {
            **_dashed(row, tz),
            "sessions": [{"id": i, "title": titles[i]} for i in p["of_speaker"].get(row["id"], [])],
        }
        for row in p["speakers"]
    ]
    in_track, in_room = {}, {}
    for row in p["sessions"]:
        item = {"id": row["id"], "title": row["title"]}
        if row["track_id"] is not None:
            in_track.setdefault(row["track_id"], []).append(item)
        if row["microlocation_id"] is not None:
            in_room.setdefault(row["microlocation_id"], []).append(item)
    members = {
        "meta": {"root-url": ""},
        "event": event,
        "tracks": [{**_dashed(r, tz), "sessions": in_track.get(r["id"], [])} for r in p["tracks"]],
        "microlocations": [
            {**_dashed(r, tz), "sessions": in_room.get(r["id"], [])} for r in p["rooms"]
        ],
    }
    if p["session_types"]:
        members["session_types"] = [kind(row) for row in p["session_types"]]
    if p["sponsors"]:
        members["sponsors"] = [
            {**_dashed(r, tz, ("sponsor_type",)), "type": r["sponsor_type"]} for r in p["sponsors"]
        ]
    members["sessions"], members["speakers"] = sessions, speakers
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, document in members.items():
            archive.writestr(name, orjson.dumps(document, option=orjson.OPT_INDENT_2))
    return stream.getvalue()


_MARKUP = ("short_abstract", "long_abstract", "short_biography", "long_biography")


def _sheet(rows: list[dict], extra: dict, tz, memo) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    skip = ("track_id", "microlocation_id")
    names = [name for name in (rows[0] if rows else {}) if name not in skip]
    writer.writerow([name.replace("_", "-") for name in names] + list(extra))
    for index, row in enumerate(rows):
        cells = []
        for name in names:
            value = row[name]
            if value is None:
                value = ""
            elif name in _TIMES:
                value = value.astimezone(tz).isoformat()
            elif name in _MARKUP:
                value = _plain(memo, value)
            cells.append(value)
        writer.writerow(cells + [column[index] for column in extra.values()])
    return buffer.getvalue().encode("utf-8-sig")


def floor_csv(p: dict) -> bytes:
    tz, memo = p["tz"], {}
    tracks = {row["id"]: row["name"] for row in p["tracks"]}
    rooms = {row["id"]: row["name"] for row in p["rooms"]}
    names = {row["id"]: row["name"] for row in p["speakers"]}
    titles = {row["id"]: row["title"] for row in p["sessions"]}
    sessions = {
        "track": [tracks.get(row["track_id"], "") for row in p["sessions"]],
        "microlocation": [rooms.get(row["microlocation_id"], "") for row in p["sessions"]],
        "speakers": [
            "; ".join(names[i] for i in p["of_session"].get(row["id"], [])) for row in p["sessions"]
        ],
    }
    speakers = {
        "sessions": [
            "; ".join(titles[i] for i in p["of_speaker"].get(row["id"], []))
            for row in p["speakers"]
        ]
    }
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sessions.csv", _sheet(p["sessions"], sessions, tz, memo))
        archive.writestr("speakers.csv", _sheet(p["speakers"], speakers, tz, memo))
    return stream.getvalue()


# The floor: frab's schedule, JSON and XML


def _frab(p: dict) -> dict:
    event, tz, memo, change = p["event"], p["tz"], {}, timedelta(hours=4)
    acronym = values.slugify(event["identifier"], "event").replace("-", "_").ljust(4, "_")
    tracks = {row["id"]: row["name"] for row in p["tracks"]}
    room_names = {row["id"]: row["name"] for row in p["rooms"]}
    people = {
        row["id"]: {
            "id": row["id"],
            "guid": _guid(event, "speaker", row["id"]),
            "public_name": row["name"],
        }
        for row in p["speakers"]
    }
    rooms = [row["name"] for row in p["rooms"]]
    if any(s["microlocation_id"] not in room_names for s in p["sessions"]):
        rooms.append("Unassigned")
    first = (event["starts_at"].astimezone(tz) - change).date()
    last = ((event["ends_at"] - timedelta(microseconds=1)).astimezone(tz) - change).date()
    on_day = {}
    for s in sorted(p["sessions"], key=lambda s: (s["starts_at"], s["id"])):
        on_day.setdefault((s["starts_at"].astimezone(tz) - change).date(), []).append(s)
    dates = {first + timedelta(days=n) for n in range((max(first, last) - first).days + 1)}
    days = []
    for index, day in enumerate(sorted(dates | set(on_day)), start=1):
        by_room = {name: [] for name in rooms}
        for s in on_day.get(day, []):
            starts, session_guid = s["starts_at"].astimezone(tz), _guid(event, "session", s["id"])
            minutes = int((s["ends_at"] - s["starts_at"]).total_seconds()) // 60
            room = room_names.get(s["microlocation_id"], "Unassigned")
            by_room[room].append(
                {
                    "guid": session_guid,
                    "id": s["id"],
                    "date": starts.isoformat(),
                    "start": f"{starts:%H:%M}",
                    "duration": f"{minutes // 60:02d}:{minutes % 60:02d}",
                    "room": room,
                    "slug": f"{acronym}-{s['id']}-{values.slugify(s['title'], 'session')}",
                    "url": f"urn:uuid:{session_guid}",
                    "title": s["title"],
                    "subtitle": s["subtitle"] or "",
                    "track": tracks.get(s["track_id"]),
                    "type": "talk",
                    "language": s["language"],
                    "abstract": _plain(memo, s["short_abstract"]),
                    "description": _plain(memo, s["long_abstract"]),
                    "persons": [people[i] for i in p["of_session"].get(s["id"], [])],
                    "links": [],
                }
            )
        bounds = [datetime.combine(day + timedelta(days=n), clock(4), tzinfo=tz) for n in (0, 1)]
        days.append(
            {
                "index": index,
                "date": day.isoformat(),
                "day_start": bounds[0].isoformat(),
                "day_end": bounds[1].isoformat(),
                "rooms": by_room,
            }
        )
    conference = {
        "acronym": acronym,
        "title": event["name"],
        "start": event["starts_at"].astimezone(tz).date().isoformat(),
        "end": event["ends_at"].astimezone(tz).date().isoformat(),
        "daysCount": len(days),
        "timeslot_duration": "00:05",
        "rooms": [{"name": name, "guid": _guid(event, "room", name)} for name in rooms],
        "tracks": [{"name": row["name"], "color": row["color"]} for row in p["tracks"]],
        "days": days,
        "time_zone_name": event["timezone"],
    }
    if event["description"]:
        conference["description"] = _plain(memo, event["description"])
    rows = [event, *p["tracks"], *p["rooms"], *p["sessions"], *p["speakers"]]
    changed = max(row["last_modified_at"] for row in rows)
    version = f"openevent-{changed:%Y%m%dT%H%M%S%fZ}"
    return {"schedule": {"version": version, "conference": conference}}


def floor_frab_json(p: dict) -> bytes:
    return orjson.dumps(_frab(p))


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(value) -> str:
    text = _XML_BAD.sub("", str(value))
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def floor_frab_xml(p: dict) -> bytes:
    conference = _frab(p)["schedule"]
    conference, version = conference["conference"], conference["version"]
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>\n<schedule>\n",
        f'  <generator name="openevent-exports"/>\n  <version>{version}</version>\n',
        "  <conference>\n",
    ]
    for name in ("title", "acronym", "start", "end"):
        out.append(f"    <{name}>{_x(conference[name])}</{name}>\n")
    out.append(f"    <days>{conference['daysCount']}</days>\n")
    out.append("    <timeslot_duration>00:05</timeslot_duration>\n")
    out.append(f"    <time_zone_name>{_x(conference['time_zone_name'])}</time_zone_name>\n")
    for track in conference["tracks"]:
        out.append(f'    <track name="{_x(track["name"])}" color="{_x(track["color"])}"/>\n')
    out.append("  </conference>\n")
    guids = {room["name"]: room["guid"] for room in conference["rooms"]}
    for day in conference["days"]:
        out.append(
            f'  <day index="{day["index"]}" date="{day["date"]}" start="{day["day_start"]}" '
            f'end="{day["day_end"]}">\n'
        )
        for room, items in day["rooms"].items():
            head = f'    <room name="{_x(room)}" guid="{guids[room]}"'
            out.append(head + ("/>\n" if not items else ">\n"))
            for item in items:
                out.append(f'      <event guid="{item["guid"]}" id="{item["id"]}">\n')
                for name in ("room", "title", "subtitle", "type", "date", "start", "duration"):
                    out.append(f"        <{name}>{_x(item[name])}</{name}>\n")
                for name in ("abstract", "slug", "track", "language", "description"):
                    value = "" if item[name] is None else _x(item[name])
                    out.append(f"        <{name}>{value}</{name}>\n")
                out.append("        <persons>\n")
                for person in item["persons"]:
                    out.append(
                        f'          <person id="{person["id"]}" guid="{person["guid"]}">'
                        f"{_x(person['public_name'])}</person>\n"
                    )
                out.append("        </persons>\n      </event>\n")
            if items:
                out.append("    </room>\n")
        out.append("  </day>\n")
    out.append("</schedule>\n")
    return "".join(out).encode()


# The floor: iCalendar and xCal


def _transitions(tz, first: date, last: date) -> list[tuple[datetime, timedelta, timedelta]]:
    """(UTC instant, offset before, offset after) of each change of offset between the dates,
    found a day at a time, then to the second by halving."""

    def offset(moment: int) -> timedelta:
        return datetime.fromtimestamp(moment, tz).utcoffset()

    found, end = [], datetime.combine(last, clock(), tzinfo=UTC).timestamp()
    moment = int(datetime.combine(first, clock(), tzinfo=tz).timestamp())
    while moment < end:
        before, day = offset(moment), range(moment, moment + 86401)
        if offset(day[-1]) != before:
            changed = day[bisect.bisect_left(day, True, key=lambda t: offset(t) != before)]
            found.append((changed, before, offset(changed)))
        moment = day[-1]
    return found


def _offset(delta: timedelta, colon: str = "") -> str:
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02}{colon}{abs(minutes) % 60:02}"


def _vtimezone(p: dict) -> tuple[str, str, list]:
    """The VTIMEZONE's TZID, COMMENT and observances: (kind, name, from, to, onsets)."""
    tz, sessions = p["tz"], p["sessions"]
    first = date(min(s["starts_at"] for s in sessions).astimezone(tz).year - 1, 1, 1)
    last = date(max(s["ends_at"] for s in sessions).astimezone(tz).year + 1, 12, 31)
    opening = datetime.combine(first, clock(), tzinfo=tz)
    kinds = {}
    start = ("daylight" if opening.dst() else "standard", opening.tzname())
    kinds[(*start, opening.utcoffset(), opening.utcoffset())] = [opening.replace(tzinfo=None)]
    for instant, before, after in _transitions(tz, first, last):
        local = datetime.fromtimestamp(instant, tz)
        onset = datetime.fromtimestamp(instant, UTC).replace(tzinfo=None) + max(before, after)
        if onset >= datetime.combine(last, clock()):
            break
        key = ("daylight" if local.dst() else "standard", local.tzname(), before, after)
        kinds.setdefault(key, []).append(onset)
    comment = f"This timezone only works from {first} to {last}."
    return p["event"]["timezone"], comment, [(*key, onsets) for key, onsets in kinds.items()]


def _text(value: str) -> str:
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def _fold(line: str) -> bytes:
    data, parts, limit = line.encode(), [], 75
    while len(data) > limit:
        cut = limit
        while data[cut] & 0xC0 == 0x80:
            cut -= 1
        parts.append(data[:cut])
        data, limit = data[cut:], 74
    parts.append(data)
    return b"\r\n ".join(parts) + b"\r\n"


def _vevents(p: dict):
    """Each scheduled session's values for a VEVENT (the calendar's order)."""
    event, tz, memo = p["event"], p["tz"], {}
    tracks = {row["id"]: row["name"] for row in p["tracks"]}
    rooms = {row["id"]: row["name"] for row in p["rooms"]}
    names = {row["id"]: row["name"] for row in p["speakers"]}
    for s in p["sessions"]:
        people = ", ".join(names[i] for i in p["of_session"].get(s["id"], []))
        abstract = _plain(memo, s["long_abstract"] or s["short_abstract"])
        yield {
            "uid": _guid(event, "session", s["id"]) + "@openevent",
            "start": s["starts_at"].astimezone(tz).replace(tzinfo=None),
            "end": s["ends_at"].astimezone(tz).replace(tzinfo=None),
            "description": "\n\n".join(x for x in (s["subtitle"], people, abstract) if x),
            "room": rooms.get(s["microlocation_id"]),
            "track": tracks.get(s["track_id"]),
            "sequence": int((s["last_modified_at"] - s["created_at"]).total_seconds()),
            "session": s,
        }


def floor_ical(p: dict) -> bytes:
    event, stamp = p["event"], "%Y%m%dT%H%M%S"
    tzid, comment, observances = _vtimezone(p)
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//openevent//openevent-exports//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_text(event['name'])}",
        f"X-WR-TIMEZONE:{_text(tzid)}",
        "BEGIN:VTIMEZONE",
        f"TZID:{_text(tzid)}",
        f"COMMENT:{_text(comment)}",
    ]
    for kind, name, before, after, onsets in observances:
        lines += [f"BEGIN:{kind.upper()}", f"DTSTART:{onsets[0]:{stamp}}"]
        if len(onsets) > 1:
            lines.append("RDATE:" + ",".join(f"{onset:{stamp}}" for onset in onsets[1:]))
        lines += [
            f"TZNAME:{_text(name)}",
            f"TZOFFSETFROM:{_offset(before)}",
            f"TZOFFSETTO:{_offset(after)}",
            f"END:{kind.upper()}",
        ]
    lines.append("END:VTIMEZONE")
    for v in _vevents(p):
        s = v["session"]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_text(v['uid'])}",
            f"DTSTAMP:{s['last_modified_at']:{stamp}}Z",
            f"DTSTART;TZID={tzid}:{v['start']:{stamp}}",
            f"DTEND;TZID={tzid}:{v['end']:{stamp}}",
            f"SUMMARY:{_text(s['title'])}",
        ]
        if v["description"]:
            lines.append(f"DESCRIPTION:{_text(v['description'])}")
        if v["room"] is not None:
            lines.append(f"LOCATION:{_text(v['room'])}")
        if v["track"] is not None:
            lines.append(f"CATEGORIES:{_text(v['track'])}")
        lines += [
            f"CREATED:{s['created_at']:{stamp}}Z",
            f"LAST-MODIFIED:{s['last_modified_at']:{stamp}}Z",
            f"SEQUENCE:{v['sequence']}",
            "STATUS:CONFIRMED",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return b"".join(map(_fold, lines))


def _xprop(pad: str, name: str, kind: str, *texts, tzid: str | None = None) -> str:
    """One xCal property: its values (already text) as elements of type ``kind``."""
    inner = pad + "  "
    out = f"{pad}<{name}>\n"
    if tzid is not None:
        out += (
            f"{inner}<parameters>\n{inner}  <tzid>\n{inner}    <text>{_x(tzid)}</text>\n"
            f"{inner}  </tzid>\n{inner}</parameters>\n"
        )
    out += "".join(f"{inner}<{kind}>{text}</{kind}>\n" for text in texts)
    return out + f"{pad}</{name}>\n"


def floor_xcal(p: dict) -> bytes:
    event, utc, wall = p["event"], "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S"
    tzid, comment, observances = _vtimezone(p)
    pad = " " * 6
    out = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        '<icalendar xmlns="urn:ietf:params:xml:ns:icalendar-2.0">\n  <vcalendar>\n',
        "    <properties>\n",
        _xprop(pad, "prodid", "text", "-//openevent//openevent-exports//EN"),
        _xprop(pad, "version", "text", "2.0"),
        _xprop(pad, "calscale", "text", "GREGORIAN"),
        _xprop(pad, "x-wr-calname", "unknown", _x(_text(event["name"]))),
        _xprop(pad, "x-wr-timezone", "unknown", _x(_text(tzid))),
        "    </properties>\n    <components>\n      <vtimezone>\n        <properties>\n",
        _xprop(" " * 10, "tzid", "text", _x(tzid)),
        _xprop(" " * 10, "comment", "text", _x(comment)),
        "        </properties>\n        <components>\n",
    ]
    pad = " " * 14
    for kind, name, before, after, onsets in observances:
        out.append(f"          <{kind}>\n            <properties>\n")
        out.append(_xprop(pad, "dtstart", "date-time", f"{onsets[0]:{wall}}"))
        if len(onsets) > 1:
            out.append(_xprop(pad, "rdate", "date-time", *(f"{o:{wall}}" for o in onsets[1:])))
        out.append(_xprop(pad, "tzname", "text", _x(name)))
        out.append(_xprop(pad, "tzoffsetfrom", "utc-offset", _offset(before, ":")))
        out.append(_xprop(pad, "tzoffsetto", "utc-offset", _offset(after, ":")))
        out.append(f"            </properties>\n          </{kind}>\n")
    out.append("        </components>\n      </vtimezone>\n")
    pad = " " * 10
    for v in _vevents(p):
        s = v["session"]
        out += [
            "      <vevent>\n        <properties>\n",
            _xprop(pad, "uid", "text", _x(v["uid"])),
            _xprop(pad, "dtstamp", "date-time", f"{s['last_modified_at']:{utc}}"),
            _xprop(pad, "dtstart", "date-time", f"{v['start']:{wall}}", tzid=tzid),
            _xprop(pad, "dtend", "date-time", f"{v['end']:{wall}}", tzid=tzid),
            _xprop(pad, "summary", "text", _x(s["title"])),
        ]
        if v["description"]:
            out.append(_xprop(pad, "description", "text", _x(v["description"])))
        if v["room"] is not None:
            out.append(_xprop(pad, "location", "text", _x(v["room"])))
        if v["track"] is not None:
            out.append(_xprop(pad, "categories", "text", _x(v["track"])))
        out += [
            _xprop(pad, "created", "date-time", f"{s['created_at']:{utc}}"),
            _xprop(pad, "last-modified", "date-time", f"{s['last_modified_at']:{utc}}"),
            _xprop(pad, "sequence", "integer", v["sequence"]),
            _xprop(pad, "status", "text", "CONFIRMED"),
            "        </properties>\n      </vevent>\n",
        ]
    out.append("    </components>\n  </vcalendar>\n</icalendar>\n")
    return "".join(out).encode()


FLOORS = {
    "open-event": floor_open_event,
    "ical": floor_ical,
    "xcal": floor_xcal,
    "frab-xml": floor_frab_xml,
    "frab-json": floor_frab_json,
    "csv": floor_csv,
}


# Timing


def _cold() -> None:
    """Forget what the formats cache (VTIMEZONEs, plain text, ids): each run is cold."""
    for cached in (ical.vtimezone, values.plain_text, values._guid):
        cached.cache_clear()


def _ours(registry, event_id: int, name: str) -> tuple[float, bytes]:
    _cold()
    gc.collect()  # neither side pays for the other's garbage
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stream:
        with transaction_scope(registry) as dbsession:
            write_export(dbsession, registry, event_id, name, {}, stream, lambda percent: None)
        elapsed = time.perf_counter() - started
        stream.seek(0)
        return elapsed, stream.read()


def _floor(registry, event_id: int, name: str) -> tuple[float, bytes]:
    gc.collect()
    started = time.perf_counter()
    connection = registry["dbengine"].raw_connection()
    try:
        program = _read(connection, event_id, FORMATS[name].public)
        connection.rollback()
    finally:
        connection.close()
    content = FLOORS[name](program)
    with tempfile.TemporaryFile() as stream:
        stream.write(content)
    return time.perf_counter() - started, content


def _members(content: bytes) -> dict[str, bytes] | bytes:
    """A zip's members by name (their order and compression are the writer's own), or the
    bytes themselves."""
    if not content.startswith(b"PK"):
        return content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _check(name: str, ours: bytes, floor: bytes) -> None:
    mine, base = _members(ours), _members(floor)
    if mine == base:
        return
    if isinstance(mine, dict):
        print(f"{name}: members {sorted(mine)} against {sorted(base)}")
        mine, base = next((mine[k], base.get(k, b"")) for k in mine if mine[k] != base.get(k))
    at = next((i for i, (a, b) in enumerate(zip(mine, base, strict=False)) if a != b), None)
    at = min(len(mine), len(base)) if at is None else at
    print(f"ours:  {mine[max(0, at - 300) : at + 200]!r}")
    print(f"floor: {base[max(0, at - 300) : at + 200]!r}")
    raise SystemExit(f"{name}: the floor's bytes differ from ours (at byte {at})")


def bench_formats(registry, event_id: int, rounds: int) -> None:
    for name in FORMATS:  # the floor must write what we write, to the byte
        _check(name, _ours(registry, event_id, name)[1], _floor(registry, event_id, name)[1])
    ours: dict[str, list[float]] = {name: [] for name in FORMATS}
    floor: dict[str, list[float]] = {name: [] for name in FORMATS}
    sizes = {}
    for _ in range(rounds):
        for name in FORMATS:
            elapsed, content = _ours(registry, event_id, name)
            ours[name].append(elapsed)
            sizes[name] = len(content)
            floor[name].append(_floor(registry, event_id, name)[0])
    database = registry["dbengine"].dialect.name
    print(f"{'format':<11} {'bytes':>10} {'ours ms':>9} {'floor ms':>9} {'ratio':>6}")
    for name in FORMATS:
        mine, base = statistics.median(ours[name]), statistics.median(floor[name])
        print(
            f"{name:<11} {sizes[name]:>10,} {mine * 1000:>9.1f} {base * 1000:>9.1f} "
            f"{mine / base:>6.2f}"
        )
    for name in FORMATS:
        mine, base = statistics.median(ours[name]), statistics.median(floor[name])
        emit(
            f"exports: {name}, {SESSIONS} sessions",
            unit="ms",
            app=mine * 1000,
            floor=base * 1000,
            goal=GOAL,
            database=database,
            bytes=sizes[name],
        )


def bench_freshness(registry, event_id: int, samples: int) -> None:
    latencies = []
    rebuilds_before = None
    with transaction_scope(registry) as dbsession:
        session_ids = dbsession.scalars(
            select(Session.id).where(Session.event_id == event_id).limit(samples)
        ).all()
    for n, session_id in enumerate(session_ids):
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(registry["dbsession_factory"], manager)
            dbsession.get(Session, session_id).title = f"Fresh {n}"
            committed = time.perf_counter()
        with transaction_scope(registry) as dbsession:
            wanted = dbsession.get(FeedState, event_id).requested
            rebuilds_before = rebuilds_before or wanted
        while True:
            with transaction_scope(registry) as dbsession:
                state = dbsession.get(FeedState, event_id)
                if state.built >= wanted:
                    break
            time.sleep(0.002)
        latencies.append(time.perf_counter() - committed)
    latencies.sort()
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(
        f"commit to fresh feeds over {len(latencies)} commits: "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=default_database_url(),
        help="PostgreSQL server for a scratch database (default: OPENEVENT_TEST_DATABASE_URL, "
        "else a temporary SQLite file)",
    )
    parser.add_argument(
        "--redis-url",
        default=default_redis_url(),
        help="freshness through Redis and a Dramatiq worker (default: OPENEVENT_TEST_REDIS_URL)",
    )
    parser.add_argument("--rounds", type=int, default=11, help="interleaved rounds (11)")
    parser.add_argument("--samples", type=int, default=20, help="freshness samples (20)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="openevent-bench-"))
    with new_database(args.database_url, workdir / "bench.sqlite") as url:
        config = configure(_settings(url, args.redis_url or "stub"))
        registry = config.registry
        with registry["dbengine"].begin() as connection:
            command.upgrade(alembic_config(config.get_settings(), connection=connection), "heads")
        event_id = _populate(registry)
        print(
            f"{SESSIONS} sessions, {SPEAKERS} speakers; {registry['dbengine'].dialect.name}, "
            f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
        )
        bench_formats(registry, event_id, args.rounds)
        if args.redis_url:
            stop, ready = threading.Event(), threading.Event()
            thread = threading.Thread(
                target=run_worker,
                args=(registry, stop),
                kwargs={"threads": 2, "started": ready},
                daemon=True,
            )
            thread.start()
            ready.wait(30)
            print("freshness: Redis broker, a Dramatiq worker (2 threads)")
            try:
                bench_freshness(registry, event_id, args.samples)
            finally:
                stop.set()
                thread.join(30)
                broker = registry[BROKER_KEY]
                namespace = registry.settings["openevent.jobs.redis_namespace"]
                keys = list(broker.client.scan_iter(f"{namespace}*"))
                if keys:
                    broker.client.delete(*keys)
        else:
            worker = start_in_process_worker(registry)
            print("freshness: embedded default (stub broker, in-process worker)")
            try:
                bench_freshness(registry, event_id, args.samples)
            finally:
                worker.stop()
        registry["dbengine"].dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
