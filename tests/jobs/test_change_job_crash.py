"""A request process killed right after its commit: the job its change subscriber enqueued runs.

The worst moment for a change-triggered job is between the database's COMMIT and the
after-commit hooks: the changes are committed, and nothing after the commit has run. A
subscriber marked ``in_transaction`` wrote the job's outbox row in the committed transaction,
so a worker's outbox relay sends it and the job runs. A real process on a scratch database
migrated to heads is SIGKILLed at that moment (see crashing_commits.py); the worker is a
thread of the test (stub broker) or, with OPENEVENT_TEST_REDIS_URL, an ``openevent worker``
process on that Redis.
"""

import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from crashing_commits import AFTER_COMMIT_MARK, index_title
from pyramid.paster import get_appsettings
from sqlalchemy import select

from openevent.cli import main
from openevent.config import configure
from openevent.db import transaction_scope
from openevent.jobs import BROKER_KEY, start_in_process_worker
from openevent.models import OutboxMessage, Session
from openevent.security import issue_token
from openevent.settings import SETTINGS
from openevent.testing import TEST_REDIS_ENV, make_event, make_session, make_user

WAIT_SECONDS = 30  # generous: processes start slowly on a loaded 2-core machine
OPENEVENT = Path(sys.executable).with_name("openevent")
CRASH = "import crashing_commits, sys; sys.exit(crashing_commits.main(*sys.argv[1:]))"


@pytest.fixture(params=["stub", "redis"])
def broker_url(request) -> str:
    if request.param == "stub":
        return "stub"
    url = os.environ.get(TEST_REDIS_ENV)
    if not url:
        pytest.skip(f"needs a Redis broker: set {TEST_REDIS_ENV}, e.g. redis://127.0.0.1:6379/0")
    return url


@pytest.fixture
def crash_ini(
    tmp_path, empty_database_url, broker_url, sample_plugins_installed, monkeypatch
) -> Path:
    """An ini file on a migrated scratch database whose requests die right after committing,
    and whose workers relay the outbox every second."""
    for setting in SETTINGS:  # the ini file, not the caller's environment, says what to use
        if setting.env:
            monkeypatch.delenv(setting.env, raising=False)
    path = tmp_path / "crash.ini"
    path.write_text(
        textwrap.dedent(
            f"""
            [app:main]
            use = egg:openevent
            pyramid.includes = crashing_commits
            tm.manager_hook = crashing_commits.crashing_manager
            sqlalchemy.url = {empty_database_url.replace("%", "%%")}
            openevent.secret = a-test-secret-of-enough-length
            openevent.storage = memory
            openevent.broker_url = {broker_url}
            openevent.jobs.redis_namespace = openevent-crash-{secrets.token_hex(6)}
            openevent.jobs.relay_grace_seconds = 1
            openevent.jobs.relay_interval_seconds = 1
            """
        )
    )
    # crashing_commits is importable here (pytest put tests/jobs on sys.path) and, through
    # PYTHONPATH, in the processes the test starts; so are the sample plugins, whose tables
    # the database has.
    paths = [
        str(Path(__file__).parent),
        str(sample_plugins_installed),
        os.environ.get("PYTHONPATH"),
    ]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))
    assert main(["db", "upgrade", str(path)]) == 0
    return path


@pytest.fixture
def app_registry(crash_ini):
    """The registry of an app on the ini file, to set up, look and run a worker from the test."""
    registry = configure(get_appsettings(str(crash_ini))).registry
    yield registry
    broker = registry[BROKER_KEY]
    if hasattr(broker, "namespace"):
        keys = list(broker.client.scan_iter(f"{broker.namespace}*"))
        if keys:
            broker.client.delete(*keys)
    broker.close()
    registry["dbengine"].dispose()


def _session_and_token(registry) -> tuple[int, str]:
    with transaction_scope(registry) as dbsession:
        owner = make_user(dbsession, password=None)
        session = make_session(dbsession, make_event(dbsession, owner=owner), title="Keynote")
        token, _ = issue_token(SimpleNamespace(registry=registry, dbsession=dbsession), owner)
        return session.id, token


def _session(registry, session_id) -> tuple[str, str | None]:
    with transaction_scope(registry) as dbsession:
        session = dbsession.get(Session, session_id)
        return session.title, session.subtitle


def _outbox(registry) -> list[bool]:
    """Whether each outbox message of the test's job was sent (installed plugins, such as
    openevent-versions, may have enqueued their own)."""
    with transaction_scope(registry) as dbsession:
        rows = dbsession.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.actor_name == index_title.name)
            .order_by(OutboxMessage.id)
        )
        return [row.sent_at is not None for row in rows]


def _run_a_worker_until(registry, crash_ini, tmp_path, broker_url, condition) -> float:
    """Start a worker (a thread on the stub broker, a process on Redis) until ``condition``."""
    log = tmp_path / "worker.log"
    if broker_url == "stub":
        worker, process = start_in_process_worker(registry), None
    else:
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(OPENEVENT), "worker", str(crash_ini), "--threads", "1"],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
    begun = time.monotonic()
    try:
        while not condition():
            if time.monotonic() - begun > WAIT_SECONDS:
                output = log.read_text(errors="replace") if log.exists() else ""
                pytest.fail(f"the job did not run within {WAIT_SECONDS} s\n{output}")
            time.sleep(0.05)
    finally:
        if process is None:
            worker.stop()
        else:
            process.terminate()
            process.wait(10)
    return time.monotonic() - begun


def test_a_change_job_survives_a_process_killed_between_commit_and_after_commit_hooks(
    app_registry, crash_ini, tmp_path, broker_url
):
    session_id, token = _session_and_token(app_registry)

    crashed = subprocess.run(
        [sys.executable, "-c", CRASH, str(crash_ini), str(session_id), token, "Opening keynote"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode(errors="replace")

    # Killed at the worst moment: the change is committed, no after-commit hook ran (neither
    # the after-commit subscriber nor the outbox's send), the job has not run. Its message is
    # in the outbox, committed with the change.
    assert _session(app_registry, session_id) == ("Opening keynote", None)
    assert not (tmp_path / AFTER_COMMIT_MARK).exists()
    assert _outbox(app_registry) == [False]

    # A worker relays the outbox (messages older than the one-second grace) and runs the job;
    # the relay marks the message sent when its own transaction commits, maybe after the job.
    elapsed = _run_a_worker_until(
        app_registry,
        crash_ini,
        tmp_path,
        broker_url,
        lambda: _session(app_registry, session_id)[1] is not None and _outbox(app_registry)[0],
    )
    assert _session(app_registry, session_id) == ("Opening keynote", "indexed: Opening keynote")
    assert _outbox(app_registry) == [True]
    print(f"the job ran {elapsed:.1f} s after a worker started")
