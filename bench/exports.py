"""Benchmark the exports plugin: each format against a floor, and how fresh the feeds stay.

    python bench/exports.py [--database-url URL] [--redis-url URL] [--rounds 7]

An event of 1,000 sessions (each with one to three of 300 speakers, in 8 rooms and 10 tracks)
is written in every format, the same way the export job does (the snapshot, one query per
table, then the format's writer into a temporary file). The floor of each run reads the same
rows with one query per table through the bare DB-API cursor (no SQLAlchemy) and writes the
same bytes (the format's output, made beforehand) into a temporary file: what any exporter
must pay, with no framework in between. Runs are interleaved (ours, floor, ours, floor...)
and the medians compared; each of ours starts cold (the formats' caches emptied).

Then freshness: a session's title is committed and the time until the feeds hold it (the
rebuild job's commit) is measured, 20 times (warm: the rebuild renders again only the VEVENT
that changed), with the app's worker as it runs on the embedded
default (the stub broker's in-process worker), or, with --redis-url, a Redis broker and a
Dramatiq worker as ``openevent worker`` runs it.
"""

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import transaction
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
# The floor's queries: the columns the snapshot reads, one statement per table.
FLOOR_QUERIES = (
    "SELECT * FROM events WHERE id = {event}",
    "SELECT id, name, color, last_modified_at FROM tracks WHERE event_id = {event} ORDER BY id",
    "SELECT id, name, position, last_modified_at FROM microlocations WHERE event_id = {event} "
    "ORDER BY position, id",
    "SELECT id, title, subtitle, short_abstract, long_abstract, language, level, state, "
    "starts_at, ends_at, track_id, microlocation_id, created_at, last_modified_at FROM sessions "
    "WHERE event_id = {event} AND deleted_at IS NULL ORDER BY id",
    "SELECT id, name, email, photo_url, organisation, short_biography, long_biography, position, "
    "country, city, is_featured, facebook, website, twitter, github, linkedin, "
    "created_at, last_modified_at FROM speakers WHERE event_id = {event} AND deleted_at IS NULL "
    "ORDER BY id",
    "SELECT ss.session_id, ss.speaker_id FROM session_speakers ss JOIN sessions s "
    "ON s.id = ss.session_id WHERE s.event_id = {event} ORDER BY 1, 2",
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


def _cold() -> None:
    """Forget what the formats cache (rendered VEVENTs, plain text, ids): each run is cold."""
    for cached in (ical.vtimezone, values.plain_text, values._guid):
        cached.cache_clear()


def _ours(registry, event_id: int, name: str) -> tuple[float, bytes]:
    _cold()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stream:
        with transaction_scope(registry) as dbsession:
            write_export(dbsession, registry, event_id, name, {}, stream, lambda percent: None)
        elapsed = time.perf_counter() - started
        stream.seek(0)
        return elapsed, stream.read()


def _floor(registry, event_id: int, content: bytes) -> float:
    started = time.perf_counter()
    connection = registry["dbengine"].raw_connection()
    try:
        cursor = connection.cursor()
        for query in FLOOR_QUERIES:
            cursor.execute(query.format(event=int(event_id)))
            cursor.fetchall()
        connection.rollback()
    finally:
        connection.close()
    with tempfile.TemporaryFile() as stream:
        stream.write(content)
    return time.perf_counter() - started


def bench_formats(registry, event_id: int, rounds: int) -> None:
    ours: dict[str, list[float]] = {name: [] for name in FORMATS}
    floor: dict[str, list[float]] = {name: [] for name in FORMATS}
    sizes = {}
    for _ in range(rounds):
        for name in FORMATS:
            elapsed, content = _ours(registry, event_id, name)
            ours[name].append(elapsed)
            sizes[name] = len(content)
            floor[name].append(_floor(registry, event_id, content))
    print(f"{'format':<11} {'bytes':>10} {'ours ms':>9} {'floor ms':>9} {'ratio':>6}")
    for name in FORMATS:
        mine, base = statistics.median(ours[name]), statistics.median(floor[name])
        print(
            f"{name:<11} {sizes[name]:>10,} {mine * 1000:>9.1f} {base * 1000:>9.1f} "
            f"{mine / base:>6.1f}"
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
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--redis-url", help="freshness through Redis and a Dramatiq worker")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (7)")
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
