"""A worker process killed mid-job: its message is delivered again to another worker.

Real ``openevent worker`` processes on a scratch database migrated to heads, with a real Redis
(OPENEVENT_TEST_REDIS_URL) or RabbitMQ (OPENEVENT_TEST_AMQP_URL); each test is skipped without
its broker.
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
from killable_jobs import DONE_SUFFIX, QUEUE, hold_then_finish, kill_my_worker
from pyramid.paster import get_appsettings
from sqlalchemy import func, select

from openevent.cli import main
from openevent.config import configure
from openevent.db import transaction_scope
from openevent.jobs import BROKER_KEY, enqueue
from openevent.jobs.broker import actor_for
from openevent.models import Event, JobFailure
from openevent.settings import SETTINGS
from openevent.testing import TEST_REDIS_ENV, make_event

TEST_AMQP_ENV = "OPENEVENT_TEST_AMQP_URL"
BROKERS = {
    "redis": (TEST_REDIS_ENV, "redis://127.0.0.1:6379/0"),
    "amqp": (TEST_AMQP_ENV, "amqp://guest:guest@127.0.0.1:5672/"),
}

HEARTBEAT_TIMEOUT_MS = 2_000
WAIT_SECONDS = 30  # generous: worker subprocesses start slowly on a loaded 2-core machine
OPENEVENT = Path(sys.executable).with_name("openevent")


@pytest.fixture
def broker_url(request) -> str:
    """The URL of the real broker the test is parametrized with; skips without one."""
    env, example = BROKERS[request.param]
    url = os.environ.get(env)
    if not url:
        pytest.skip(f"needs a real broker to kill a worker process on: set {env}, e.g. {example}")
    return url


@pytest.fixture
def worker_ini(tmp_path, empty_database_url, broker_url, monkeypatch):
    """An ini file on a migrated scratch database (and a Redis namespace of the test's own)."""
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
            openevent.broker_url = {broker_url}
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
    broker = registry[BROKER_KEY]
    actor_for(registry, hold_then_finish)  # declares the queue
    broker.flush(QUEUE)  # RabbitMQ's queues are not namespaced: drop any leftover message
    yield registry
    broker.flush(QUEUE)
    if hasattr(broker, "namespace"):
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


def _event_name(registry, event_id) -> str:
    with transaction_scope(registry) as dbsession:
        return dbsession.get(Event, event_id).name


def _enqueue_then_kill_the_worker(registry, workers: Workers, folder: Path):
    """Enqueue the holding job, let a worker start it, SIGKILL that worker."""
    folder.mkdir()
    (folder / "hold").touch()  # the job waits while this file exists
    with transaction_scope(registry) as dbsession:
        event_id = make_event(dbsession, name="Killed Summit").id
        message_id = enqueue(dbsession, hold_then_finish, event_id, str(folder))
    first = workers.start()
    _wait_for(lambda: _deliveries(folder / "started"), workers, "the first worker starts the job")
    first.send_signal(signal.SIGKILL)
    assert first.wait(5) == -signal.SIGKILL
    return event_id, message_id, first


def _run_by_another_worker(registry, workers: Workers, folder: Path, event_id, message_id, first):
    """Let a second worker take the message; check it ran it once more, to completion."""
    (folder / "hold").unlink()
    second = workers.start()
    _wait_for(
        lambda: _event_name(registry, event_id).endswith(DONE_SUFFIX),
        workers,
        "another worker commits the job",
    )
    started = _deliveries(folder / "started")
    assert [(d["pid"], d["message_id"]) for d in started] == [
        (first.pid, message_id),
        (second.pid, message_id),
    ]
    # Observed Dramatiq behaviour: a redelivery after a dead worker is not a retry.
    assert [d["retries"] for d in started] == [0, 0]
    assert [d["pid"] for d in _deliveries(folder / "finished")] == [second.pid]
    with transaction_scope(registry) as dbsession:
        assert dbsession.get(Event, event_id).name == "Killed Summit" + DONE_SUFFIX
        assert dbsession.scalar(select(func.count()).select_from(JobFailure)) == 0
    return started


@pytest.mark.parametrize("broker_url", ["redis"], indirect=True)
def test_a_job_whose_redis_worker_is_killed_is_run_again_by_another_worker(
    app_registry, workers, tmp_path
):
    folder = tmp_path / "job"
    event_id, message_id, first = _enqueue_then_kill_the_worker(app_registry, workers, folder)

    # The message is neither queued nor acknowledged: it waits in the dead worker's ack set.
    client = app_registry[BROKER_KEY].client
    namespace = app_registry[BROKER_KEY].namespace
    assert client.llen(f"{namespace}:{QUEUE}") == 0
    assert client.hlen(f"{namespace}:{QUEUE}.msgs") == 1
    [acks] = client.scan_iter(f"{namespace}:__acks__.*.{QUEUE}")
    assert client.scard(acks) == 1
    dead_worker = acks.decode().removeprefix(f"{namespace}:__acks__.").removesuffix(f".{QUEUE}")
    last_heartbeat_ms = client.zscore(f"{namespace}:__heartbeats__", dead_worker)

    started = _run_by_another_worker(app_registry, workers, folder, event_id, message_id, first)
    # Delivered again only once the dead worker's last heartbeat was older than the timeout.
    assert started[-1]["at_ms"] >= last_heartbeat_ms + HEARTBEAT_TIMEOUT_MS

    # Acknowledged: nothing left queued or reserved.
    # This queue's: installed plugins' jobs (openevent-versions bumps the event's counters) may
    # still be reserved by the dead worker on their own queues.
    def left() -> tuple[int, int, int]:
        acks = sum(client.scard(key) for key in client.scan_iter(f"{namespace}:__acks__.*.{QUEUE}"))
        return client.hlen(f"{namespace}:{QUEUE}.msgs"), client.llen(f"{namespace}:{QUEUE}"), acks

    # The worker acknowledges right after the job's commit; on a loaded machine that can take
    # a while, so wait for it rather than look once.
    deadline = time.monotonic() + WAIT_SECONDS
    while left() != (0, 0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left() == (0, 0, 0), workers.output()


@pytest.mark.parametrize("broker_url", ["amqp"], indirect=True)
def test_a_job_whose_rabbitmq_worker_is_killed_is_run_again_by_another_worker(
    app_registry, workers, tmp_path
):
    folder = tmp_path / "job"
    broker = app_registry[BROKER_KEY]
    event_id, message_id, first = _enqueue_then_kill_the_worker(app_registry, workers, folder)
    # RabbitMQ put the message back on its queue when the dead worker's connection closed.
    assert broker.get_queue_message_counts(QUEUE) == (1, 0, 0)

    _run_by_another_worker(app_registry, workers, folder, event_id, message_id, first)

    deadline = time.monotonic() + 5
    while broker.get_queue_message_counts(QUEUE) != (0, 0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert broker.get_queue_message_counts(QUEUE) == (0, 0, 0)


@pytest.mark.parametrize("broker_url", ["redis"], indirect=True)
def test_a_job_that_kills_its_worker_every_time_is_failed_after_its_last_retry(
    app_registry, workers, tmp_path, capsys
):
    """Dramatiq does not count a dead worker as a retry; ``job_deliveries`` does."""
    folder = tmp_path / "job"
    folder.mkdir()
    with transaction_scope(app_registry) as dbsession:
        message_id = enqueue(dbsession, kill_my_worker, str(folder))

    def failed() -> bool:
        with transaction_scope(app_registry) as dbsession:
            return dbsession.scalar(select(func.count()).select_from(JobFailure)) > 0

    # Start a worker whenever the last one died, until the message is failed.
    begun = time.monotonic()
    workers.start()
    while not failed():
        if time.monotonic() - begun > 3 * WAIT_SECONDS:
            pytest.fail(f"the message was not failed in time\n{workers.output()}")
        returncode = workers.processes[-1].poll()
        if returncode == -signal.SIGKILL:
            workers.start()
        elif returncode is not None:
            pytest.fail(f"a worker exited with {returncode}\n{workers.output()}")
        time.sleep(0.05)
    elapsed = time.monotonic() - begun

    # max_retries=1: two deliveries ran (and killed their workers), the third was not run.
    started = _deliveries(folder / "started")
    assert [d["message_id"] for d in started] == [message_id, message_id]
    assert [d["retries"] for d in started] == [0, 0]
    assert [d["pid"] for d in started] == [p.pid for p in workers.processes[:2]]
    assert len(workers.processes) == 3
    assert workers.processes[-1].poll() is None  # the third worker skipped it and lives on
    with transaction_scope(app_registry) as dbsession:
        failure = dbsession.scalars(select(JobFailure)).one()
        assert failure.message_id == message_id
        assert failure.attempts == 2
        assert failure.error == (
            "worker died 2 times while running this job (2 deliveries, 0 retried after an error)"
        )

    # Dead-lettered on Redis: nothing left queued or reserved.
    client = app_registry[BROKER_KEY].client
    namespace = app_registry[BROKER_KEY].namespace
    deadline = time.monotonic() + 5
    while client.hlen(f"{namespace}:{QUEUE}.msgs") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.hlen(f"{namespace}:{QUEUE}.msgs") == 0
    assert client.zcard(f"{namespace}:{QUEUE}.XQ") == 1

    capsys.readouterr()
    assert main(["jobs", "failed", str(workers.ini)]) == 0
    listed = capsys.readouterr().out
    assert message_id in listed
    assert "worker died 2 times while running this job" in listed
    print(f"failed after {elapsed:.1f} s and {len(workers.processes)} worker processes")
