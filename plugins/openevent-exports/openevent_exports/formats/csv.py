"""Sessions and speakers as spreadsheets: a zip of ``sessions.csv`` and ``speakers.csv``.

UTF-8 with a byte order mark (so spreadsheet programs read accents right), one row per session
and per speaker. The columns are every column the snapshot loads (their dasherized names),
times in the event's timezone, markup as plain text; a session's track and room by name and its
speakers joined, a speaker's sessions joined by title. This is the team's export: every session
that is not trashed, with its state, and speakers' e-mail addresses.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from enum import Enum
from typing import BinaryIO

from openevent_exports.formats.values import event_tz, iso, plain_text
from openevent_exports.snapshot import Program

JOIN = "; "
# Columns holding sanitized HTML, written as plain text.
MARKUP = frozenset(
    {"short_abstract", "long_abstract", "short_biography", "long_biography", "description"}
)
# Foreign keys, written by name instead.
_REPLACED = frozenset({"track_id", "microlocation_id"})


def _cell(name: str, value, tz) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso(value, tz)
    if isinstance(value, Enum):
        return value.value
    if name in MARKUP:
        return plain_text(value)
    return str(value)


def _sheet(rows: list[dict], extra: dict[str, list[str]], tz) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = [name for name in (rows[0] if rows else {}) if name not in _REPLACED]
    writer.writerow([name.replace("_", "-") for name in names] + list(extra))
    for index, row in enumerate(rows):
        cells = [_cell(name, row[name], tz) for name in names]
        writer.writerow(cells + [column[index] for column in extra.values()])
    return buffer.getvalue().encode("utf-8-sig")


def write(program: Program, stream: BinaryIO, writing) -> None:
    tz = event_tz(program.event)
    tracks = {row["id"]: row["name"] for row in program.tracks}
    rooms = {row["id"]: row["name"] for row in program.rooms}
    speakers = {row["id"]: row["name"] for row in program.speakers}
    titles = {row["id"]: row["title"] for row in program.sessions}
    sessions_extra = {
        "track": [tracks.get(row["track_id"], "") for row in program.sessions],
        "microlocation": [rooms.get(row["microlocation_id"], "") for row in program.sessions],
        "speakers": [
            JOIN.join(speakers[i] for i in program.speaker_ids_of(row["id"]))
            for row in program.sessions
        ],
    }
    speakers_extra = {
        "sessions": [
            JOIN.join(titles[i] for i in program.session_ids_of(row["id"]))
            for row in program.speakers
        ]
    }
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("sessions.csv", _sheet(program.sessions, sessions_extra, tz))
        writing.progress(50)
        archive.writestr("speakers.csv", _sheet(program.speakers, speakers_extra, tz))
        writing.progress(100)
