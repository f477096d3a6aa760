"""The embedded default under concurrency: writers on a SQLite file never fail with "database is
locked", readers run beside them, and a plugin's job lands within a second of the commit.

These tests build an app of their own on a SQLite file of their own (also when the suite runs
on PostgreSQL: they are about the embedded default), with real commits from several
connections: the per-test rolled-back connection of the other tests would hide the locking.
"""

import gc
import json
import logging
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from webob import Request

from openevent.cli import main
from openevent.config import configure
from openevent.db import Lane, WriteRefused, for_writes, get_engine, sqlite, transaction_scope
from openevent.db.migrations import alembic_config
from openevent.db.sqlite import WriterQueue
from openevent.jobs import BROKER_KEY, IN_PROCESS_WORKER_KEY, enqueue, job, run_worker
from openevent.jobs.broker import bookkeeping
from openevent.models import (
    Event,
    EventState,
    EventType,
    JobDelivery,
    JobFailure,
    Microlocation,
    Session,
    Track,
)
from openevent.security import issue_token
from openevent.testing import (
    JSONAPI_HEADERS,
    jsonapi_document,
    make_event,
    make_session,
    make_speaker,
    make_ticket,
    make_user,
)
from openevent_versions.models import EventVersions

THREADS = 8


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'openevent.sqlite'}"


@pytest.fixture
def own_app(app_settings, sqlite_url):
    """``own_app(**settings)``: an app migrated on a SQLite file of the test's own; its
    in-process worker (if any) is stopped and its engine disposed at the end."""
    configs = []

    def build(**settings):
        config = configure({**app_settings, "sqlalchemy.url": sqlite_url, **settings})
        with config.registry["dbengine"].begin() as connection:
            command.upgrade(alembic_config(config.get_settings(), connection=connection), "heads")
        configs.append(config)
        return config

    yield build
    for config in configs:
        worker = config.registry.get(IN_PROCESS_WORKER_KEY)
        if worker is not None:
            worker.stop()
        config.registry["dbengine"].dispose()


def _in_threads(work, count=THREADS):
    """Run ``work(number)`` in ``count`` threads started together; return their results."""
    start = threading.Barrier(count)

    def run(number):
        start.wait()
        return work(number)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _owner_and_event(registry):
    """A published event and its owner's API headers, committed."""
    with transaction_scope(registry) as dbsession:
        owner = make_user(dbsession, password=None)
        event_id = make_event(dbsession, owner=owner, state=EventState.PUBLISHED).id
        token, _ = issue_token(SimpleNamespace(registry=registry, dbsession=dbsession), owner)
    return event_id, {"Authorization": f"Bearer {token}", **JSONAPI_HEADERS}


def _call(app, method, path, headers=None, body=None):
    """One request through the WSGI app, as a server thread would make it."""
    request = Request.blank(path, method=method, headers=headers or {})
    if body is not None:
        request.body = json.dumps(body).encode()
    return request.get_response(app)


def test_concurrent_transactions_that_read_then_write_all_commit(own_app):
    registry = own_app().registry
    rounds = 10

    def read_then_write(number):
        for round_ in range(rounds):
            with transaction_scope(registry) as dbsession:
                dbsession.scalar(select(func.count(Event.id)))
                time.sleep(0.002)  # others commit meanwhile
                make_event(dbsession, name=f"Event {number}.{round_}")

    _in_threads(read_then_write)

    with transaction_scope(registry) as dbsession:
        assert dbsession.scalar(select(func.count(Event.id))) == THREADS * rounds


def test_writers_of_one_process_take_turns_in_the_order_they_came(sqlite_url):
    """SQLite's own wait is a loop of sleeps that lets a newcomer overtake a writer that has
    waited longer; the process's writers queue instead, work that follows a commit (jobs, then
    the outbox) before new work."""
    engine = get_engine({"sqlalchemy.url": sqlite_url})
    with for_writes(engine).begin() as connection:
        connection.exec_driver_sql("CREATE TABLE turns (writer TEXT)")
    holding = threading.Event()

    def hold():
        with for_writes(engine).begin() as connection:
            connection.exec_driver_sql("INSERT INTO turns VALUES ('holder')")
            holding.set()
            time.sleep(0.6)

    def write(name, lane):
        with for_writes(engine, lane).begin() as connection:
            connection.exec_driver_sql(f"INSERT INTO turns VALUES ('{name}')")

    writers = [(f"new {n}", Lane.NEW) for n in range(6)]
    writers += [("follow-up", Lane.FOLLOW_UP), ("job", Lane.JOB)]  # come last
    threads = [threading.Thread(target=hold)]
    threads[0].start()
    assert holding.wait(10)
    for name, lane in writers:
        threads.append(threading.Thread(target=write, args=(name, lane)))
        threads[-1].start()
        time.sleep(0.015)  # the next one comes later: waiting phases spread over 120 ms
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        turns = connection.exec_driver_sql("SELECT writer FROM turns ORDER BY rowid").scalars()
        assert list(turns) == ["holder", "job", "follow-up", *(f"new {n}" for n in range(6))]
    engine.dispose()


def test_the_writer_queue_gives_up_after_the_timeout():
    queue = WriterQueue()
    assert queue.acquire(timeout=1)
    started = time.monotonic()
    assert not queue.acquire(timeout=0.05)
    assert 0.05 <= time.monotonic() - started < 1
    queue.release()
    assert queue.acquire(timeout=0)  # the one that gave up is not waiting any more
    queue.release()


@pytest.fixture
def writers(sqlite_url, monkeypatch):
    """Writing connections of a SQLite engine of the test's own, with a table ``t``; a writer
    kept waiting gives up after half a second."""
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 500)
    engine = get_engine({"sqlalchemy.url": sqlite_url})
    with for_writes(engine).begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield for_writes(engine)
    engine.dispose()


def _write(writers, value):
    with writers.begin() as connection:
        connection.exec_driver_sql(f"INSERT INTO t VALUES ({value})")


def test_a_connection_dropped_in_a_write_transaction_passes_the_turn_on(writers):
    forgotten = writers.connect()  # never closed: the garbage collector gives it back
    forgotten.begin()
    forgotten.exec_driver_sql("INSERT INTO t VALUES (1)")
    del forgotten
    gc.collect()
    _write(writers, 2)

    broken = writers.connect()
    transaction = broken.begin()
    broken.exec_driver_sql("INSERT INTO t VALUES (3)")
    broken.invalidate()  # as after a lost connection
    _write(writers, 4)
    transaction.rollback()
    broken.close()


def test_a_writer_kept_waiting_too_long_gets_a_503_and_changes_nothing(own_app, monkeypatch):
    """Past the busy timeout "database is locked" still reaches requests: they are replayed
    (pyramid_retry), then answered 503 with Retry-After."""
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 100)
    app = own_app().make_wsgi_app()
    event_id, headers = _owner_and_event(app.registry)
    holding, done = threading.Event(), threading.Event()

    def hold():  # another writer of the process, holding the lock for too long
        with transaction_scope(app.registry) as dbsession:
            make_speaker(dbsession, dbsession.get(Event, event_id))
            holding.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        response = _create_session(app, headers, event_id, "Too late")
    finally:
        done.set()
        thread.join()
    assert response.status_int == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json["errors"][0]["code"] == "busy"
    with transaction_scope(app.registry) as dbsession:
        assert dbsession.scalar(select(func.count(Session.id))) == 0


def test_a_migration_waits_for_a_running_writer(tmp_path, sqlite_url, monkeypatch):
    """``openevent db upgrade`` reads the revision, then writes: beside a running server it
    waits for the write lock instead of failing half-way."""
    monkeypatch.delenv("OPENEVENT_DATABASE_URL", raising=False)
    ini = tmp_path / "site.ini"
    ini.write_text(
        f"[app:main]\nuse = egg:openevent\nsqlalchemy.url = {sqlite_url}\n"
        "openevent.secret = a-test-secret-of-enough-length\nopenevent.storage = memory\n"
    )
    assert main(["db", "upgrade", str(ini), "46fd0493b667"]) == 0  # the initial schema
    holding = threading.Event()

    def hold():  # the server, in a write transaction while the upgrade starts
        connection = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO event_types (name, slug) VALUES ('Expo', 'expo')")
        holding.set()
        time.sleep(0.3)
        connection.execute("COMMIT")
        connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(10)
        assert main(["db", "upgrade", str(ini)]) == 0
    finally:
        thread.join()
    assert main(["db", "check", str(ini)]) == 0


def _create_session(app, headers, event_id, title):
    body = jsonapi_document("session", {"title": title}, event=("event", event_id))
    return _call(app, "POST", "/v1/sessions", headers, body)


def test_concurrent_writing_requests_get_no_503(own_app, caplog):
    app = own_app().make_wsgi_app()
    event_id, headers = _owner_and_event(app.registry)
    rounds = 6

    def client(number):
        statuses = []
        for round_ in range(rounds):
            created = _create_session(app, headers, event_id, f"Talk {number}.{round_}")
            statuses.append(created.status_int)
            if created.status_int == 201:
                session_id = created.json["data"]["id"]
                body = jsonapi_document("session", {"subtitle": f"Round {round_}"}, id=session_id)
                patched = _call(app, "PATCH", f"/v1/sessions/{session_id}", headers, body)
                statuses.append(patched.status_int)
            statuses.append(_call(app, "GET", f"/v1/events/{event_id}/sessions").status_int)
        return statuses

    with caplog.at_level(logging.WARNING):
        statuses = [status for result in _in_threads(client) for status in result]

    assert sorted(statuses) == sorted([201, 200, 200] * THREADS * rounds)
    assert "database busy" not in caplog.text


def test_a_reader_is_not_held_up_by_a_writer(own_app):
    """GET requests read a snapshot beside an open write transaction, without waiting for it."""
    app = own_app().make_wsgi_app()
    event_id, headers = _owner_and_event(app.registry)
    writing, done = threading.Event(), threading.Event()

    def writer():
        with transaction_scope(app.registry) as dbsession:
            make_session(dbsession, dbsession.get(Event, event_id), title="Uncommitted")
            writing.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(10)
        started = time.monotonic()
        response = _call(app, "GET", f"/v1/events/{event_id}/sessions", headers)
        elapsed = time.monotonic() - started
    finally:
        done.set()
        thread.join()
    assert response.status_int == 200
    assert response.json["data"] == []  # the snapshot before the writer's commit
    assert elapsed < 1


_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _get_paths(testapp, ids):
    """Every GET route of the API description, its ids filled in from ``ids``."""
    paths = testapp.get("/v1/openapi.json").json["paths"]
    for template, operations in paths.items():
        if "get" not in operations:
            continue
        collection = template.split("/")[2]
        # A plugin's rows that the test made none of are asked for all the same, as missing
        # rows (404): a GET must not write whatever it answers.
        yield re.sub(r"\{[a-z_]+\}", str(ids.get(collection, 0)), template)


def test_no_get_route_writes(testapp, dbsession, owner, event, token_for, count_statements):
    """GET requests begin deferred transactions on SQLite (they read beside the writer), which
    could not take the write lock later: none of them may write."""
    event_type = EventType(name="Conference")
    track, room = Track(event=event, name="Web"), Microlocation(event=event, name="Hall A")
    dbsession.add_all([event_type, track, room])
    session = make_session(dbsession, event, track=track, microlocation=room)
    speaker = make_speaker(dbsession, event)
    ticket = make_ticket(dbsession, event)
    ids = {
        "events": event.id,
        "event-types": event_type.id,
        "sessions": session.id,
        "speakers": speaker.id,
        "tickets": ticket.id,
        "tracks": track.id,
        "microlocations": room.id,
        "users": owner.id,
        "languages": "",
        "openapi.json": "",
    }
    paths = list(_get_paths(testapp, ids))
    assert len(paths) >= 15
    lists = [path + "?filter[trashed]=with" for path in paths if path.endswith("s")]
    for headers in ({}, token_for(owner)):
        for path in paths + lists:
            with count_statements() as statements:
                response = testapp.get(path, headers=headers, status="*")
            assert response.status_int < 500, path
            assert [s for s in statements if _WRITE.match(s)] == [], path


def test_the_in_process_worker_bumps_versions_within_a_second(own_app, caplog):
    """The versions plugin's job writes on every change: with the in-process worker on a SQLite
    file under concurrent writes, each lands within a second of its commit, at the first try."""
    # The versions plugin's jobs alone: the exports plugin's feed rebuilds (docs/exports.md) take
    # the one worker thread and the write lock for a while, which is not what this measures.
    config = own_app(
        **{"openevent.jobs.in_process_worker": True, "openevent.plugins.disabled": "exports"}
    )
    app = config.make_wsgi_app()  # as pserve does: ApplicationCreated starts the worker
    registry = app.registry
    assert registry[IN_PROCESS_WORKER_KEY].started.wait(10)
    event_id, headers = _owner_and_event(registry)
    rounds = 8
    committed: list[float] = []  # when each writing request had answered (after its commit)
    seen: list[tuple[float, int]] = []  # (when, sessions counter) as a client polling sees it
    stop = threading.Event()

    counter = select(EventVersions.sessions).where(EventVersions.event_id == event_id)

    def watch():
        while not stop.is_set():
            with registry["dbengine"].connect() as connection:  # a reader, as a client's GET
                seen.append((time.monotonic(), connection.scalar(counter) or 0))
            time.sleep(0.01)

    def client(number):
        for round_ in range(rounds):
            response = _create_session(app, headers, event_id, f"Talk {number}.{round_}")
            assert response.status_int == 201, response.text
            committed.append(time.monotonic())

    watcher = threading.Thread(target=watch)
    with caplog.at_level(logging.INFO):
        watcher.start()
        try:
            _in_threads(client)
            deadline = time.monotonic() + 5
            while (not seen or seen[-1][1] < len(committed)) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stop.set()
            watcher.join()

    # One bump per committed transaction; by the k-th answer at least k transactions had
    # committed, so the counter must reach k within a second of it.
    assert seen[-1][1] == len(committed) == THREADS * rounds
    for k, answered in enumerate(sorted(committed), start=1):
        reached = next(when for when, value in seen if value >= k)
        assert reached - answered < 1, f"bump {k} landed {reached - answered:.2f} s late"
    with transaction_scope(registry) as dbsession:
        assert dbsession.scalars(select(JobFailure)).all() == []
        # Every job message started once: no attempt failed and was retried. (One bump per
        # request, and one for the event's creation.)
        deliveries = dbsession.scalars(select(JobDelivery.deliveries)).all()
    assert len(deliveries) == THREADS * rounds + 1 and set(deliveries) == {1}
    assert "database is locked" not in caplog.text


# Jobs that only read (@job(writes=False)).

READ_ONLY_QUEUE = "read-only-test"
renamed: list[str] = []


@job(queue_name=READ_ONLY_QUEUE, writes=False, max_retries=0)
def rename_event_though_read_only(context, event_id, catch):
    event = context.dbsession.get(Event, event_id)
    event.name = "Renamed"
    try:
        context.dbsession.flush()
    except WriteRefused:
        renamed.append("refused")
        if not catch:
            raise


def test_a_transaction_that_only_reads_runs_while_another_connection_holds_the_write_lock(
    own_app, sqlite_url
):
    registry = own_app().registry
    with transaction_scope(registry) as dbsession:
        event_id = make_event(dbsession, name="PyCon").id
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # One that may write would wait for the lock, and fail after the timeout.
        with transaction_scope(registry, writes=False) as dbsession:
            assert dbsession.get(Event, event_id).name == "PyCon"
    finally:
        holder.rollback()
        holder.close()


@pytest.mark.parametrize("catch", [False, True], ids=["raised", "caught"])
def test_a_job_that_promised_not_to_write_fails_at_its_write_and_writes_nothing(own_app, catch):
    registry = own_app().registry
    with transaction_scope(registry) as dbsession:
        event_id = make_event(dbsession, name="PyCon").id
        enqueue(dbsession, rename_event_though_read_only, event_id, catch)
    renamed.clear()
    stop, started = threading.Event(), threading.Event()
    worker = threading.Thread(
        target=run_worker,
        args=(registry, stop),
        kwargs={"threads": 1, "queues": [READ_ONLY_QUEUE], "relay": False, "started": started},
    )
    worker.start()
    try:
        started.wait(10)
        deadline = time.monotonic() + 30
        while bookkeeping(registry[BROKER_KEY]).processed < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        worker.join()

    # Caught or not, the refused write fails the job: it is recorded, its write undone.
    assert renamed == ["refused"]
    with transaction_scope(registry) as dbsession:
        assert dbsession.get(Event, event_id).name == "PyCon"
        error = dbsession.scalars(select(JobFailure.error)).one()
    assert error.startswith("WriteRefused: ")
    assert "UPDATE events" in error


def test_another_process_holding_the_write_lock_past_the_busy_timeout_is_sqlalchemys_error(
    own_app, sqlite_url, monkeypatch
):
    """``BEGIN IMMEDIATE`` runs on the driver's connection; its "database is locked" still
    arrives as SQLAlchemy's OperationalError, which requests replay and answer 503 for."""
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 100)  # read as connections open
    registry = own_app().registry
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with (
            pytest.raises(OperationalError, match="database is locked") as raised,
            transaction_scope(registry) as dbsession,
        ):
            dbsession.execute(select(func.count()).select_from(Event))
        assert isinstance(raised.value.orig, sqlite3.OperationalError)
        assert "BEGIN IMMEDIATE" in str(raised.value)
    finally:
        holder.rollback()
        holder.close()
    with transaction_scope(registry) as dbsession:  # and the turn was passed on
        assert dbsession.scalar(select(func.count()).select_from(Event)) == 0


def test_the_engine_of_a_lane_is_made_once_and_shares_the_engines_pool(own_app):
    engine = own_app().registry["dbengine"]
    job = for_writes(engine, Lane.JOB)
    assert for_writes(engine, Lane.JOB) is job
    relaxed = for_writes(engine, Lane.JOB, durable=False)
    assert relaxed is not job and for_writes(engine, Lane.NEW) not in (job, relaxed)
    assert job.pool is engine.pool and relaxed.pool is engine.pool
    with job.begin() as connection:  # a writer's transaction: BEGIN IMMEDIATE, in its lane
        assert connection.get_execution_options()[sqlite._WRITES] == Lane.JOB
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
