"""A worker process killed mid-job: its message is delivered again to another worker.

Real ``openevent worker`` processes on a real Redis (OPENEVENT_TEST_REDIS_URL) and a scratch
database migrated to heads; skipped without Redis.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from killable_jobs import DONE_SUFFIX, QUEUE, hold_then_finish
from pyramid.paster import get_appsettings
from sqlalchemy import func, select

from openevent.cli import main
from openevent.config import configure
from openevent.db import transaction_scope
from openevent.jobs import BROKER_KEY, enqueue
from openevent.models import Event, JobFailure
from openevent.settings import SETTINGS
from openevent.testing import TEST_REDIS_ENV, make_event

REDIS_URL = os.environ.get(TEST_REDIS_ENV)
pytestmark = pytest.mark.skipif(
    not REDIS_URL,
    reason=f"needs a Redis broker to kill a worker process on: set {TEST_REDIS_ENV}, "
    "e.g. redis://127.0.0.1:6379/0",
)

HEARTBEAT_TIMEOUT_MS = 2_000
WAIT_SECONDS = 15
OPENEVENT = Path(sys.executable).with_name("openevent")


@pytest.fixture
def worker_ini(tmp_path, empty_database_url, monkeypatch):
    """An ini file on a migrated scratch database and a Redis namespace of the test's own."""
    for setting in SETTINGS:  # the ini file, not the caller's environment, says what to use
        if setting.env:
            monkeypatch.delenv(setting.env, raising=False)
    namespace = f"openevent-killed-{secrets.token_hex(6)}"
    path = tmp_path / "worker.ini"
    path.write_text(
        textwrap.dedent(
            f"""
            [app:main]
            use = egg:openevent
            pyramid.includes = killable_jobs
            sqlalchemy.url = {empty_database_url.replace("%", "%%")}
            openevent.secret = a-test-secret-of-enough-length
            openevent.storage = memory
            openevent.broker_url = {REDIS_URL}
            openevent.jobs.redis_namespace = {namespace}
            openevent.jobs.redis_heartbeat_timeout_ms = {HEARTBEAT_TIMEOUT_MS}
            openevent.jobs.redis_maintenance_chance = 1000000
            """
        )
    )
    # killable_jobs is importable here (pytest put tests/jobs on sys.path) and, through
    # PYTHONPATH, in the workers.
    paths = [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))
    assert main(["db", "upgrade", str(path)]) == 0
    return path


@pytest.fixture
def app_registry(worker_ini):
    """The registry of an app on the worker's ini file, to enqueue and look from the test."""
    registry = configure(get_appsettings(str(worker_ini))).registry
    yield registry
    broker = registry[BROKER_KEY]
    keys = list(broker.client.scan_iter(f"{broker.namespace}*"))
    if keys:
        broker.client.delete(*keys)
    broker.close()
    registry["dbengine"].dispose()


class Workers:
    """``openevent worker`` subprocesses, ended (SIGKILL if need be) at the end of the test."""

    def __init__(self, ini: Path, logs: Path):
        self.ini = ini
        self.logs = logs
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = self.logs / f"worker-{len(self.processes) + 1}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(OPENEVENT), "worker", str(self.ini), "--threads", "1"],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def output(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')}"
            for log in sorted(self.logs.glob("worker-*.log"))
        )

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def workers(worker_ini, tmp_path):
    workers = Workers(worker_ini, tmp_path)
    yield workers
    workers.stop_all()


def _deliveries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _wait_for(condition, workers: Workers, what: str) -> float:
    """Poll ``condition`` for up to WAIT_SECONDS; return how long it took."""
    begun = time.monotonic()
    while not condition():
        if time.monotonic() - begun > WAIT_SECONDS:
            pytest.fail(f"{what}: not within {WAIT_SECONDS} s\n{workers.output()}")
        for process in workers.processes[-1:]:
            if process.poll() not in (None, -signal.SIGKILL):
                pytest.fail(f"{what}: worker exited with {process.returncode}\n{workers.output()}")
        time.sleep(0.05)
    return time.monotonic() - begun


def test_a_job_whose_worker_is_killed_is_run_again_by_another_worker(
    app_registry, workers, tmp_path
):
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "hold").touch()  # the job waits while this file exists
    with transaction_scope(app_registry) as dbsession:
        event_id = make_event(dbsession, name="Killed Summit").id
        message_id = enqueue(dbsession, hold_then_finish, event_id, str(folder))

    first = workers.start()
    _wait_for(lambda: _deliveries(folder / "started"), workers, "the first worker starts the job")
    first.send_signal(signal.SIGKILL)
    assert first.wait(5) == -signal.SIGKILL

    # The message is neither queued nor acknowledged: it waits in the dead worker's ack set.
    client = app_registry[BROKER_KEY].client
    namespace = app_registry[BROKER_KEY].namespace
    assert client.llen(f"{namespace}:{QUEUE}") == 0
    assert client.hlen(f"{namespace}:{QUEUE}.msgs") == 1
    [acks] = client.scan_iter(f"{namespace}:__acks__.*.{QUEUE}")
    assert client.scard(acks) == 1
    dead_worker = acks.decode().removeprefix(f"{namespace}:__acks__.").removesuffix(f".{QUEUE}")
    last_heartbeat_ms = client.zscore(f"{namespace}:__heartbeats__", dead_worker)

    (folder / "hold").unlink()
    second = workers.start()
    _wait_for(lambda: (folder / "finished").exists(), workers, "another worker finishes the job")
    started = _deliveries(folder / "started")
    # Delivered again only once the dead worker's last heartbeat was older than the timeout.
    assert started[-1]["at_ms"] >= last_heartbeat_ms + HEARTBEAT_TIMEOUT_MS
    assert [(d["pid"], d["message_id"]) for d in started] == [
        (first.pid, message_id),
        (second.pid, message_id),
    ]
    # Observed Dramatiq behaviour: a redelivery after a dead worker is not a retry.
    assert [d["retries"] for d in started] == [0, 0]
    assert [d["pid"] for d in _deliveries(folder / "finished")] == [second.pid]

    # The job committed; the message is acknowledged and nothing is recorded as failed.
    deadline = time.monotonic() + 5
    while client.hlen(f"{namespace}:{QUEUE}.msgs") and time.monotonic() < deadline:
        time.sleep(0.05)  # the worker acknowledges right after the job's commit
    assert client.hlen(f"{namespace}:{QUEUE}.msgs") == 0
    assert client.llen(f"{namespace}:{QUEUE}") == 0
    assert sum(client.scard(key) for key in client.scan_iter(f"{namespace}:__acks__.*")) == 0
    with transaction_scope(app_registry) as dbsession:
        assert dbsession.get(Event, event_id).name == "Killed Summit" + DONE_SUFFIX
        assert dbsession.scalar(select(func.count()).select_from(JobFailure)) == 0
