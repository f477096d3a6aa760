"""The Open Event zip: the team's full backup, in the layout of Open Event's own exports.

One JSON file per collection, named without extension as Open Event names them (``event``,
``tracks``, ``microlocations``, ``sessions``, ``speakers``, and ``meta``), keys dasherized,
times with their offset in the event's timezone. Every session that is not trashed is there,
with its state; the links between sessions and speakers are written on both sides (a session's
``speakers``, a speaker's ``sessions``), as are the sessions of each track and room.

Every column the snapshot loads goes out under its dasherized name, so a column added to
:data:`openevent_exports.snapshot.COLUMNS` is exported with no change here.

With ``include-media``, images kept in the app's storage (URLs ``/files/<key>``, see
docs/storage.md) are copied into ``images/`` and their URLs in the JSON point there
(``/images/speakers/12-photo.jpg``); URLs elsewhere are left as they are (the server never
fetches a URL a user gave).
"""

from __future__ import annotations

import posixpath
import shutil
import zipfile
from datetime import datetime
from enum import Enum
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import orjson

from openevent_exports.formats.values import event_tz, iso
from openevent_exports.snapshot import Program

FILES_PREFIX = "/files/"
# Members larger than this get ZIP64 headers from the start (zipfile needs to know before
# streaming one in); whole archives of any size get ZIP64 as zipfile needs it.
_ZIP64_FROM = 1 << 31
# Keys that the program keeps as foreign ids and this format writes as nested objects.
_NESTED = {
    "track_id": "track",
    "microlocation_id": "microlocation",
    "session_type_id": "session-type",
}


def _length(minutes: int | None) -> str | None:
    """A session type's length as Open Event writes it: ``"HH:MM"``."""
    return None if minutes is None else f"{minutes // 60:02}:{minutes % 60:02}"


def _session_type(row: dict) -> dict:
    return {"id": row["id"], "name": row["name"], "length": _length(row["length_minutes"])}


def _copyright(event: dict) -> dict | None:
    """Open Event's ``event-copyright`` object from the event's ``copyright-*`` keys (moved)."""
    names = ("holder", "holder-url", "licence", "licence-url", "year", "logo-url")
    values = {name: event.pop(f"copyright-{name}", None) for name in names}
    return values if any(value is not None for value in values.values()) else None


# The media of each collection: the columns holding image URLs.
MEDIA = {"event": ("logo_url", "original_image_url"), "speakers": ("photo_url",)}


def _json_row(row: dict, tz) -> dict:
    out = {}
    for name, value in row.items():
        if name in _NESTED:
            continue
        if isinstance(value, datetime):
            value = iso(value, tz)
        elif isinstance(value, Enum):
            value = value.value
        out[name.replace("_", "-")] = value
    return out


def _dump(archive: zipfile.ZipFile, name: str, document) -> None:
    archive.writestr(name, orjson.dumps(document, option=orjson.OPT_INDENT_2))


def storage_key(url: str | None) -> str | None:
    """The storage key of a URL the app serves (``/files/<key>``), else None."""
    if not url:
        return None
    path = urlsplit(url).path
    return unquote(path[len(FILES_PREFIX) :]) if path.startswith(FILES_PREFIX) else None


def _copy_media(archive, storage, key: str, member: str) -> bool:
    try:
        size = storage.stat(key).size
        with (
            storage.open(key) as source,
            archive.open(member, "w", force_zip64=size >= _ZIP64_FROM) as target,
        ):
            shutil.copyfileobj(source, target, 1024 * 1024)
    except LookupError:
        return False  # gone from storage: the URL stays as it was
    return True


def write(program: Program, stream: BinaryIO, writing) -> None:
    tz = event_tz(program.event)
    tracks = {row["id"]: row for row in program.tracks}
    rooms = {row["id"]: row for row in program.rooms}
    speakers = {row["id"]: row for row in program.speakers}
    sessions = {row["id"]: row for row in program.sessions}
    include_media = writing.options.get("include-media", False)

    event = _json_row(program.event, tz)
    event["event-copyright"] = _copyright(event)
    event["social-links"] = [_json_row(row, tz) for row in program.social_links]
    session_types = {row["id"]: row for row in program.session_types}
    speaker_documents = []
    for row in program.speakers:
        document = _json_row(row, tz)
        document["sessions"] = [
            {"id": i, "title": sessions[i]["title"]} for i in program.session_ids_of(row["id"])
        ]
        speaker_documents.append(document)
    session_documents = []
    for row in program.sessions:
        document = _json_row(row, tz)
        track = tracks.get(row["track_id"])
        room = rooms.get(row["microlocation_id"])
        document["track"] = (
            {"id": track["id"], "name": track["name"], "color": track["color"]} if track else None
        )
        document["microlocation"] = {"id": room["id"], "name": room["name"]} if room else None
        session_type = session_types.get(row.get("session_type_id"))
        document["session-type"] = _session_type(session_type) if session_type else None
        document["speakers"] = [
            {"id": i, "name": speakers[i]["name"]} for i in program.speaker_ids_of(row["id"])
        ]
        session_documents.append(document)

    def members_of(column: str, rows) -> dict:
        listed: dict[int, list] = {}
        for row in rows:
            if row[column] is not None:
                listed.setdefault(row[column], []).append({"id": row["id"], "title": row["title"]})
        return listed

    sessions_of_track = members_of("track_id", program.sessions)
    sessions_of_room = members_of("microlocation_id", program.sessions)
    track_documents = [
        {**_json_row(row, tz), "sessions": sessions_of_track.get(row["id"], [])}
        for row in program.tracks
    ]
    room_documents = [
        {**_json_row(row, tz), "sessions": sessions_of_room.get(row["id"], [])}
        for row in program.rooms
    ]

    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        if include_media and writing.storage is not None:
            media = [("event", event, program.event["id"], c) for c in MEDIA["event"]]
            media += [
                ("speakers", document, document["id"], c)
                for document in speaker_documents
                for c in MEDIA["speakers"]
            ]
            for folder, document, row_id, column in media:
                name = column.replace("_", "-")
                key = storage_key(document.get(name))
                if key is None:
                    continue
                member = f"images/{folder}/{row_id}-{name}-{posixpath.basename(key)}"
                if _copy_media(archive, writing.storage, key, member):
                    document[name] = f"/{member}"
        writing.progress(10)
        _dump(archive, "meta", {"root-url": writing.base_url or ""})
        _dump(archive, "event", event)
        writing.progress(20)
        _dump(archive, "tracks", track_documents)
        _dump(archive, "microlocations", room_documents)
        if program.session_types:
            _dump(archive, "session_types", [_session_type(r) for r in program.session_types])
        if program.sponsors:
            sponsors = [_json_row(row, tz) for row in program.sponsors]
            for sponsor in sponsors:
                sponsor["type"] = sponsor.pop("sponsor-type")  # Open Event's name
            _dump(archive, "sponsors", sponsors)
        writing.progress(30)
        _dump(archive, "sessions", session_documents)
        writing.progress(70)
        _dump(archive, "speakers", speaker_documents)
        writing.progress(100)
