"""Benchmark: the session list of a large event through the WSGI app, against a floor.

Loads an event with 1,000 sessions and 300 speakers (titles and abstracts taken, cycled, from
the FOSSASIA Summit 2017 sample when it is beside the repository), then measures

- the app: GET /v1/events/{id}/sessions?page[size]=100&include=speakers through webtest, in
  process, with everything the API does (routing, ACL, parameters, the event and its team, the
  page with its total, the speakers: three statements whatever the page size; includes,
  serialization);
- the floor: the same document (checked equal: attributes, links, meta, included speakers)
  from a count and one hand-written SQL query, built by hand with the same JSON library
  (orjson), in a transaction of its own on a plain engine, in the same process.

in alternating batches of five requests (so that both see the same machine), and prints requests
per second, median latency and the ratio app/floor of the medians.

    .venv/bin/python bench/api.py                       # SQLite in a temporary folder
    .venv/bin/python bench/api.py --database-url postgresql://postgres@127.0.0.1/test

Without --database-url, the server at OPENEVENT_TEST_DATABASE_URL if set.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import orjson
import pytz
import webtest
from _common import default_database_url, emit, interleaved, plain_engine
from alembic import command
from sqlalchemy import text

from openevent.config import configure
from openevent.db import transaction_scope
from openevent.db.migrations import alembic_config
from openevent.models import Event, EventState, Session, SessionState, Speaker
from openevent.testing import new_database

SAMPLE = Path(__file__).resolve().parents[2] / "shared/samples/open-event/FOSSASIASummit2017"
SESSIONS, SPEAKERS, PAGE = 1000, 300, 100

FLOOR_SQL = text("""
    SELECT s.id, s.title, s.subtitle, s.short_abstract, s.long_abstract, s.abstract_preview,
           s.language, s.level, s.state, s.starts_at, s.ends_at, s.created_at,
           s.last_modified_at, s.deleted_at, s.track_id, s.microlocation_id, s.event_id,
           s.slides_url, s.video_url, s.audio_url, s.signup_url, s.session_type_id,
           sp.id AS speaker_id, sp.name, sp.photo_url, sp.organisation, sp.short_biography,
           sp.long_biography, sp.position, sp.country, sp.city, sp.is_featured, sp.facebook,
           sp.thumbnail_image_url, sp.small_image_url, sp.icon_image_url,
           sp.website, sp.twitter, sp.github, sp.linkedin, sp.event_id AS sp_event_id,
           sp.created_at AS sp_created_at, sp.last_modified_at AS sp_last_modified_at,
           sp.deleted_at AS sp_deleted_at
    FROM (SELECT * FROM sessions WHERE event_id = :event_id AND deleted_at IS NULL
          AND state IN ('accepted', 'confirmed') ORDER BY id LIMIT :limit) AS s
    LEFT JOIN session_speakers ss ON ss.session_id = s.id
    LEFT JOIN speakers sp ON sp.id = ss.speaker_id AND sp.deleted_at IS NULL
    ORDER BY s.id, sp.id
""")
# The total for meta.count and the last page's link (cheaper apart than as a window function).
COUNT_SQL = text("""
    SELECT count(*) FROM sessions WHERE event_id = :event_id AND deleted_at IS NULL
    AND state IN ('accepted', 'confirmed')
""")
SPEAKER_COLUMNS = {
    "name": "name",
    "photo-url": "photo_url",
    "organisation": "organisation",
    "short-biography": "short_biography",
    "long-biography": "long_biography",
    "position": "position",
    "country": "country",
    "city": "city",
    "is-featured": "is_featured",
    "facebook": "facebook",
    "thumbnail-image-url": "thumbnail_image_url",
    "small-image-url": "small_image_url",
    "icon-image-url": "icon_image_url",
    "website": "website",
    "twitter": "twitter",
    "github": "github",
    "linkedin": "linkedin",
}


def _samples():
    if not (SAMPLE / "sessions").exists():
        return [{"title": f"Talk {i}", "short-abstract": "<p>An abstract.</p>"} for i in range(50)]
    return json.loads((SAMPLE / "sessions").read_text())


def load_event(registry) -> int:
    samples = _samples()
    start = datetime(2030, 3, 17, 1, 0, tzinfo=UTC)
    with transaction_scope(registry) as db:
        event = Event(
            name="Bench Summit",
            timezone="Asia/Singapore",
            state=EventState.PUBLISHED,
            starts_at=start,
            ends_at=start + timedelta(days=3),
        )
        speakers = [
            Speaker(
                event=event,
                name=f"Speaker {i}",
                email=f"s{i}@example.org",
                organisation="FOSSASIA",
                short_biography="<p>Free software person.</p>",
            )
            for i in range(SPEAKERS)
        ]
        db.add_all([event, *speakers])
        for i in range(SESSIONS):
            sample = samples[i % len(samples)]
            db.add(
                Session(
                    event=event,
                    title=(sample.get("title") or f"Talk {i}")[:255],
                    short_abstract=sample.get("short-abstract") or None,
                    long_abstract=sample.get("long-abstract") or None,
                    state=SessionState.ACCEPTED,
                    starts_at=start + timedelta(minutes=30 * i),
                    ends_at=start + timedelta(minutes=30 * i + 25),
                    speakers=[speakers[(i * 7 + k) % SPEAKERS] for k in range(1 + i % 3)],
                )
            )
        db.flush()
        return event.id


def _iso(value, tz):
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's naive UTC text, read with its offset in one call
        value = datetime.fromisoformat(value + "+00:00")
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz).isoformat()


def _link(type_, id_):
    return None if id_ is None else {"type": type_, "id": str(id_)}


def floor_document(connection, event_id: int, tz, path: str) -> bytes:
    """What the endpoint returns (the same document, byte for byte once parsed), built from one
    SQL query by hand, and its total from a count: the page, its speakers and the links."""
    sessions: dict[int, dict] = {}
    included: dict[int, dict] = {}
    total = connection.execute(COUNT_SQL, {"event_id": event_id}).scalar()
    for row in connection.execute(FLOOR_SQL, {"event_id": event_id, "limit": PAGE}).mappings():
        session = sessions.get(row["id"])
        if session is None:
            session = sessions[row["id"]] = {
                "type": "session",
                "id": str(row["id"]),
                "attributes": {
                    "title": row["title"],
                    "subtitle": row["subtitle"],
                    "short-abstract": row["short_abstract"],
                    "long-abstract": row["long_abstract"],
                    "abstract-preview": row["abstract_preview"],
                    "language": row["language"],
                    "level": row["level"],
                    "state": row["state"],
                    "starts-at": _iso(row["starts_at"], tz),
                    "ends-at": _iso(row["ends_at"], tz),
                    "created-at": _iso(row["created_at"], tz),
                    "last-modified-at": _iso(row["last_modified_at"], tz),
                    "deleted-at": _iso(row["deleted_at"], tz),
                    "slides-url": row["slides_url"],
                    "video-url": row["video_url"],
                    "audio-url": row["audio_url"],
                    "signup-url": row["signup_url"],
                },
                "relationships": {
                    "event": {"data": {"type": "event", "id": str(row["event_id"])}},
                    "track": {"data": _link("track", row["track_id"])},
                    "microlocation": {"data": _link("microlocation", row["microlocation_id"])},
                    "session-type": {"data": _link("session-type", row["session_type_id"])},
                    "speakers": {"data": []},
                },
                "links": {"self": f"/v1/sessions/{row['id']}"},
            }
        if row["speaker_id"] is not None:
            sid = str(row["speaker_id"])
            session["relationships"]["speakers"]["data"].append({"type": "speaker", "id": sid})
            if row["speaker_id"] not in included:
                attributes = {name: row[column] for name, column in SPEAKER_COLUMNS.items()}
                attributes["created-at"] = _iso(row["sp_created_at"], tz)
                attributes["last-modified-at"] = _iso(row["sp_last_modified_at"], tz)
                attributes["deleted-at"] = _iso(row["sp_deleted_at"], tz)
                included[row["speaker_id"]] = {
                    "type": "speaker",
                    "id": sid,
                    "attributes": attributes,
                    "relationships": {
                        "event": {"data": {"type": "event", "id": str(row["sp_event_id"])}}
                    },
                    "links": {"self": f"/v1/speakers/{sid}"},
                }
    last = max(1, -(-total // PAGE))

    def link(number):
        pairs = [("include", "speakers"), ("page[number]", number), ("page[size]", PAGE)]
        return f"{path}?{urlencode(pairs)}"

    return orjson.dumps(
        {
            "data": list(sessions.values()),
            "links": {
                "self": link(1),
                "first": link(1),
                "last": link(last),
                "prev": None,
                "next": link(2) if last > 1 else None,
            },
            "meta": {"count": total},
            "included": list(included.values()),
            "jsonapi": {"version": "1.1"},
        }
    )


def report(name: str, timings: list[float]) -> float:
    median = statistics.median(timings)
    print(
        f"{name:6} {len(timings) / sum(timings):8.1f} req/s   median {median * 1000:7.2f} ms   "
        f"({len(timings)} runs)"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=default_database_url(),
        help="PostgreSQL server to create a scratch database on",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="time for both, alternating")
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
        }
    )
    engine = config.registry["dbengine"]
    with engine.begin() as connection:
        command.upgrade(alembic_config(config.get_settings(), connection=connection), "heads")
    event_id = load_event(config.registry)
    with engine.begin() as connection:
        # A running server's tables have statistics (autovacuum analyzes what changed within a
        # minute or so); measured right after loading, plans would be made blind, and whether
        # autovacuum analyzes during the run would decide the figure.
        connection.execute(text("ANALYZE"))
    app = webtest.TestApp(config.make_wsgi_app())
    collection = f"/v1/events/{event_id}/sessions"
    path = f"{collection}?page[size]={PAGE}&include=speakers"
    body = app.get(path).json
    assert len(body["data"]) == PAGE and body["included"], "unexpected response"

    tz = pytz.timezone("Asia/Singapore")
    # A plain engine, a transaction per document, as a request has (see plain_engine).
    floor_engine = plain_engine(url)

    def floor_request() -> bytes:
        with floor_engine.begin() as connection:
            return floor_document(connection, event_id, tz, collection)

    floor = json.loads(floor_request())
    if floor != body:  # the floor must do all the work the app does
        for key in body:
            if floor.get(key) != body[key]:
                print(f"app {key}: {json.dumps(body[key])[:800]}")
                print(f"floor {key}: {json.dumps(floor.get(key))[:800]}")
        raise SystemExit("the floor's document differs from the app's")
    print(
        f"{SESSIONS} sessions, {SPEAKERS} speakers, page of {PAGE} with speakers; "
        f"{engine.dialect.name}"
    )
    app_times, floor_times = interleaved(lambda: app.get(path), floor_request, seconds=seconds)
    app_median = report("app", app_times)
    floor_median = report("floor", floor_times)
    floor_engine.dispose()
    print(f"ratio  {app_median / floor_median:.2f}x the floor (median latency)")
    emit(
        f"api: {PAGE} sessions with speakers",
        unit="ms",
        app=app_median * 1000,
        floor=floor_median * 1000,
        goal=1.5,
        database=engine.dialect.name,
    )
    engine.dispose()


if __name__ == "__main__":
    main()
