"""Benchmark: the schedule page of a 1,000-session event against the API's list of the same.

Loads an event with 1,000 public sessions over three days in 10 rooms and 8 tracks, with 300
speakers (titles cycled from the FOSSASIA Summit 2017 sample when it is beside the
repository), then measures, through the WSGI app in process, in interleaved runs (one of
each in turn, so that both see the same machine):

- the site: GET /events/{identifier}/schedule, the whole grid of the three days, rendered by
  the schedule plugin's templates (rooms, tracks, speakers' names, times for the locale);
- the API: the same sessions with their speakers as a client reads them,
  GET /v1/events/{id}/sessions?include=speakers&page[size]=100, all 10 pages.

and prints the median of each and the ratio site/API; the goal is 2x or less. A single API
page of 100 is printed too, for scale. No ETag is sent: every run renders.

    .venv/bin/python bench/site.py                       # SQLite in a temporary folder
    .venv/bin/python bench/site.py --database-url postgresql://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import webtest
from _common import default_database_url, emit
from alembic import command

from openevent.config import configure
from openevent.db import transaction_scope
from openevent.db.migrations import alembic_config
from openevent.models import Event, EventState, Microlocation, Session, SessionState, Speaker, Track
from openevent.testing import new_database

SAMPLE = Path(__file__).resolve().parents[2] / "shared/samples/open-event/FOSSASIASummit2017"
SESSIONS, SPEAKERS, ROOMS, TRACKS, PAGE = 1000, 300, 10, 8, 100


def _titles() -> list[str]:
    if not (SAMPLE / "sessions").exists():
        return [f"Talk {i}" for i in range(50)]
    return [s["title"][:255] for s in json.loads((SAMPLE / "sessions").read_text())]


def load_event(registry) -> tuple[int, str]:
    titles = _titles()
    start = datetime(2030, 3, 17, 0, 0, tzinfo=UTC)  # 08:00 in Singapore
    with transaction_scope(registry) as db:
        event = Event(
            name="Bench Summit",
            timezone="Asia/Singapore",
            state=EventState.PUBLISHED,
            starts_at=start,
            ends_at=start + timedelta(days=3),
        )
        rooms = [Microlocation(event=event, name=f"Room {i}", position=i) for i in range(ROOMS)]
        tracks = [Track(event=event, name=f"Track {i}", color="#3366cc") for i in range(TRACKS)]
        speakers = [
            Speaker(event=event, name=f"Speaker {i}", organisation="FOSSASIA")
            for i in range(SPEAKERS)
        ]
        db.add_all([event, *rooms, *tracks, *speakers])
        per_day = -(-SESSIONS // 3)
        for i in range(SESSIONS):
            day, slot = divmod(i, per_day)
            begins = start + timedelta(days=day, minutes=20 * (slot // ROOMS))
            db.add(
                Session(
                    event=event,
                    title=titles[i % len(titles)],
                    short_abstract="<p>An abstract of the talk.</p>",
                    state=SessionState.ACCEPTED,
                    starts_at=begins,
                    ends_at=begins + timedelta(minutes=15 + 5 * (i % 2)),
                    microlocation=rooms[slot % ROOMS],
                    track=tracks[i % TRACKS],
                    speakers=[speakers[(i * 7 + k) % SPEAKERS] for k in range(1 + i % 2)],
                )
            )
        db.flush()
        return event.id, event.identifier


def _interleaved(runs: dict, seconds: float) -> dict[str, list[float]]:
    for fn in runs.values():
        for _ in range(2):
            fn()  # warm up
    timings: dict[str, list[float]] = {name: [] for name in runs}
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for name, fn in runs.items():
            started = time.perf_counter()
            fn()
            timings[name].append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=default_database_url(),
        help="PostgreSQL server to create a scratch database on (OPENEVENT_TEST_DATABASE_URL)",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="time for all the runs")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        new_database(args.database_url, f"{folder}/bench.sqlite") as url,
    ):
        _bench(url, args.seconds)


def _bench(url: str, seconds: float) -> None:
    config = configure(
        {
            "sqlalchemy.url": url,
            "openevent.secret": secrets.token_hex(16),
            "openevent.storage": "memory",
            "openevent.plugins": "schedule",
        }
    )
    engine = config.registry["dbengine"]
    with engine.begin() as connection:
        command.upgrade(alembic_config(config.get_settings(), connection=connection), "heads")
    event_id, identifier = load_event(config.registry)
    app = webtest.TestApp(config.make_wsgi_app())
    site = f"/events/{identifier}/schedule"
    pages = [
        f"/v1/events/{event_id}/sessions?include=speakers&page[size]={PAGE}&page[number]={n}"
        for n in range(1, SESSIONS // PAGE + 1)
    ]
    html = app.get(site).text
    assert html.count('class="session"') == SESSIONS, "the schedule misses sessions"
    assert sum(len(app.get(p).json["data"]) for p in pages) == SESSIONS

    def api_all():
        for page in pages:
            app.get(page)

    timings = _interleaved(
        {"site": lambda: app.get(site), "api": api_all, "api1": lambda: app.get(pages[0])},
        seconds,
    )
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(
        f"{SESSIONS} sessions in {ROOMS} rooms over 3 days, {SPEAKERS} speakers; "
        f"{engine.dialect.name}; schedule page {len(html.encode()) // 1024} KiB"
    )
    labels = {
        "site": "schedule page (all 1,000)",
        "api": f"API list, {len(pages)} pages of {PAGE}",
        "api1": f"API list, one page of {PAGE}",
    }
    for name, label in labels.items():
        print(f"{label:28} median {medians[name] * 1000:8.1f} ms  ({len(timings[name])} runs)")
    print(f"ratio  {medians['site'] / medians['api']:.2f}x the API's list of the same sessions")
    emit(
        f"site: schedule of {SESSIONS:,} sessions, vs the API's {len(pages)} pages",
        unit="ms",
        app=medians["site"] * 1000,
        floor=medians["api"] * 1000,
        goal=2.0,
        database=engine.dialect.name,
    )
    engine.dispose()


if __name__ == "__main__":
    main()
