"""From an event's sessions to the schedule's days: a grid per local day, rooms as columns.

Everything is in the event's timezone: a session belongs to the local day it starts on, and
sits in the grid rows of its local start and end (five minutes a row), in its room's column.
Rooms keep the organizer's order; a day shows the rooms it uses, and sessions with no room in
a last column of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import groupby

from openevent.models import Microlocation, Session

SLOT = timedelta(minutes=5)
MARK_EVERY = timedelta(minutes=30)  # a time label in the grid's first column
HEADER_ROWS = 1  # the rooms' names


@dataclass(frozen=True)
class Placed:
    """A session's cell: its grid column and rows (CSS grid lines, from 1)."""

    session: Session
    column: int
    row_start: int
    row_end: int


@dataclass
class Day:
    """One local day of the schedule."""

    date: date
    sessions: list[Session]  # chronological, then by room
    rooms: list[Microlocation | None] = field(default_factory=list)  # None: no room given
    placed: list[Placed] = field(default_factory=list)
    marks: list[tuple[int, datetime]] = field(default_factory=list)  # (row, local time)
    rows: int = 0

    @property
    def slots(self) -> list[tuple[datetime, list[Session]]]:
        """The sessions grouped by start, for the list view."""
        return [(start, list(group)) for start, group in groupby(self.sessions, _start)]


def _start(session: Session) -> datetime:
    return session.starts_at


def _floor(moment: datetime, step: timedelta) -> datetime:
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + ((moment - midnight) // step) * step


@lru_cache(maxsize=8192)
def local_time(moment: datetime, tz: tzinfo) -> datetime:
    """``moment`` in ``tz``. A page converts each session's times several times (its day, its
    rows, its times as text), and a schedule's sessions share a few slots: each conversion is
    made once (pytz makes each in Python)."""
    return moment.astimezone(tz)


def local_day(session: Session, tz: tzinfo) -> date:
    return local_time(session.starts_at, tz).date()


def build_days(sessions: Iterable[Session], rooms: list[Microlocation], tz: tzinfo) -> list[Day]:
    """The days of ``sessions`` (scheduled ones, in schedule order), each laid out."""
    days: dict[date, list[Session]] = {}
    for session in sessions:
        days.setdefault(local_day(session, tz), []).append(session)
    return [_lay_out(day, day_sessions, rooms, tz) for day, day_sessions in sorted(days.items())]


def _lay_out(day: date, sessions: list[Session], rooms: list[Microlocation], tz) -> Day:
    used = {s.microlocation_id for s in sessions}
    columns: list[Microlocation | None] = [room for room in rooms if room.id in used]
    if None in used:
        columns.append(None)
    column_of = {(room.id if room else None): i + 2 for i, room in enumerate(columns)}
    local_starts = [local_time(s.starts_at, tz) for s in sessions]
    top = _floor(min(local_starts), MARK_EVERY)
    # A session running past midnight ends, on this day's grid, at midnight.
    midnight = tz.localize(datetime.combine(day + timedelta(days=1), datetime.min.time()))
    placed, last_row = [], HEADER_ROWS + 1
    for session, start in zip(sessions, local_starts, strict=True):
        end = min(local_time(session.ends_at, tz), midnight)
        row_start = HEADER_ROWS + 1 + (start - top) // SLOT
        row_end = max(row_start + 1, HEADER_ROWS + 1 + -(-(end - top) // SLOT))
        placed.append(Placed(session, column_of[session.microlocation_id], row_start, row_end))
        last_row = max(last_row, row_end)
    marks = []
    moment = top
    while (row := HEADER_ROWS + 1 + (moment - top) // SLOT) < last_row:
        marks.append((row, moment))
        moment += MARK_EVERY
    return Day(day, sessions, columns, placed, marks, last_row - 1)


def now_and_next(sessions: Iterable[Session], now: datetime) -> tuple[list, list]:
    """The sessions running at ``now``, and those starting next (all at the same time)."""
    running, upcoming = [], []
    for session in sessions:
        if session.starts_at <= now < session.ends_at:
            running.append(session)
        elif session.starts_at > now:
            upcoming.append(session)
    if upcoming:
        first = min(s.starts_at for s in upcoming)
        upcoming = [s for s in upcoming if s.starts_at == first]
    return running, upcoming
