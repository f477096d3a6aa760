"""Exports and feeds end to end on a real Redis broker (OPENEVENT_TEST_REDIS_URL), with a
Dramatiq worker as ``openevent worker`` runs it; on PostgreSQL too when the suite runs there."""

import io
import os
import tempfile
import zipfile
from dataclasses import replace
from datetime import UTC, datetime

import dramatiq
from sqlalchemy import select

from openevent.db import transaction_scope
from openevent.jobs import BROKER_KEY, declare_known_jobs, enqueue
from openevent.models import EventState, Session, SessionState
from openevent.testing import make_event, make_session, make_speaker, make_user
from openevent_exports import formats
from openevent_exports.jobs import build_export
from openevent_exports.models import ExportJob, FeedState
from openevent_exports.settings import SETTINGS_KEY


def _work(registry) -> None:
    """Run a worker until the exports queue is empty and acknowledged, then stop it: the
    worker's sessions and the test's share the test's connection, one at a time."""
    broker = registry[BROKER_KEY]
    worker = dramatiq.Worker(broker, queues={"exports"}, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        broker.join("exports", timeout=20_000)
    finally:
        worker.stop()


def _event(registry) -> int:
    with transaction_scope(registry) as dbsession:
        owner = make_user(dbsession, password=None)
        event = make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
        session = make_session(
            dbsession,
            event,
            title="On Redis",
            state=SessionState.ACCEPTED,
            starts_at=datetime(2030, 3, 17, 3, 0, tzinfo=UTC),
            ends_at=datetime(2030, 3, 17, 4, 0, tzinfo=UTC),
        )
        session.speakers = [make_speaker(dbsession, event, name=f"S{n}") for n in range(3)]
        return event.id


def _export(registry, event_id, format_name) -> int:
    with transaction_scope(registry) as dbsession:
        job = ExportJob(event_id=event_id, format=format_name, options={})
        dbsession.add(job)
        dbsession.flush()
        job.message_id = enqueue(dbsession, build_export, job.id, event_id=event_id)
        return job.id


def _finished(registry, export_id) -> ExportJob:
    _work(registry)
    with transaction_scope(registry) as dbsession:
        job = dbsession.get(ExportJob, export_id)
        dbsession.expunge(job)
    return job


def test_exports_run_fail_and_are_retained_on_redis(redis_registry, monkeypatch):
    declare_known_jobs(redis_registry)
    monkeypatch.setitem(redis_registry, SETTINGS_KEY, replace(redis_registry[SETTINGS_KEY], keep=2))
    storage = redis_registry["openevent.storage"]
    event_id = _event(redis_registry)
    first = _export(redis_registry, event_id, "open-event")
    job = _finished(redis_registry, first)
    assert job.state == "done" and job.size > 0
    with storage.open(job.storage_key) as stream:
        archive = zipfile.ZipFile(io.BytesIO(stream.read()))
    assert "sessions" in archive.namelist()

    def explode(program, stream, writing):
        raise OSError("storage quota exceeded")

    monkeypatch.setitem(formats.FORMATS, "csv", replace(formats.FORMATS["csv"], write=explode))
    before = set(os.listdir(tempfile.gettempdir()))
    failing = _export(redis_registry, event_id, "csv")
    job = _finished(redis_registry, failing)
    assert job.state == "failed" and job.error == "OSError: storage quota exceeded"
    leftovers = set(os.listdir(tempfile.gettempdir())) - before
    assert not [name for name in leftovers if name.startswith("openevent-export-")]

    third = _export(redis_registry, event_id, "ical")
    _finished(redis_registry, third)
    with transaction_scope(redis_registry) as dbsession:
        kept = dbsession.scalars(
            select(ExportJob.id).where(ExportJob.event_id == event_id).order_by(ExportJob.id)
        ).all()
    assert kept == [failing, third]  # the first one is gone, with its file
    assert [s.key for s in storage.list(f"exports/{event_id}/{first}/")] == []


def test_feeds_follow_a_commit_on_redis(redis_registry):
    declare_known_jobs(redis_registry)
    event_id = _event(redis_registry)
    _work(redis_registry)
    with transaction_scope(redis_registry) as dbsession:
        assert dbsession.get(FeedState, event_id).built >= 1
        session = dbsession.scalars(select(Session).where(Session.event_id == event_id)).one()
        session.title = "Renamed on Redis"
    _work(redis_registry)
    with transaction_scope(redis_registry) as dbsession:
        state = dbsession.get(FeedState, event_id)
        assert state.built == state.requested and not state.queued
        generation = state.built
    storage = redis_registry["openevent.storage"]
    with storage.open(f"feeds/{event_id}/{generation}/schedule.ics") as stream:
        assert b"Renamed on Redis" in stream.read()
