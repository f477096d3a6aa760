"""Benchmark: concurrent clients mixing reads and writes against a real server, per database.

    .venv/bin/python bench/concurrency.py [--seconds 60] [--clients 16] [--write-share 0.5]
    OPENEVENT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/concurrency.py          # SQLite, then PostgreSQL

For each database it copies development.ini into a temporary folder (the development settings:
stub broker with the in-process worker, local storage; only the port differs), points it at a
scratch database (a SQLite file under that folder; with OPENEVENT_TEST_DATABASE_URL or
--database-url, also a PostgreSQL database created on that server and dropped afterwards),
migrates it with ``openevent db upgrade``, and serves it with ``pserve`` in a subprocess on
127.0.0.1. The versions plugin is active, so every committed write runs a job that writes too.

Each client registers, logs in and creates an event (asking again while the server answers
503), then, once all have, until the time is up sends requests one after another: writes
(create or patch a session, speaker or ticket, patch the event) with probability --write-share,
reads otherwise (list sessions, speakers or tickets, read the event, a session or the event's
version counters). The report, per database: requests, statuses (503s and any other 5xx, set-up
included), p50/p99 latency of reads and writes, job attempts that failed on the lock ("database
is locked" in the server's log, ``job_failures`` rows, messages delivered more than once), how
far the version counters a client read lagged behind its own committed writes (the age of the
oldest write not yet counted), and how long after the last write they had caught up with
every write.

Traffic goes to 127.0.0.1 only; the run is bounded by --seconds and --max-requests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select

from openevent.models import JobDelivery, JobFailure
from openevent.testing import TEST_DATABASE_ENV, new_database

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
JSONAPI = "application/vnd.api+json"
# What a committed write raises in the versions plugin's counters (see openevent_versions).
COUNTER_OF = {"session": "sessions", "speaker": "speakers", "ticket": "tickets", "event": "event"}
READS = ("sessions", "speakers", "tickets", "event", "session", "versions")
WRITES = ("create", "create", "patch", "patch", "patch-event")


@dataclass
class Sample:
    kind: str  # "read", "write" or "setup" (sign-up, login, the event: before the clock)
    status: int
    seconds: float
    answered: float  # time.monotonic() at the answer


@dataclass
class Client:
    """One client's connection, event and tally of committed writes per counter."""

    port: int
    number: int
    rng: random.Random
    samples: list[Sample] = field(default_factory=list)
    headers: dict = field(default_factory=lambda: {"Content-Type": JSONAPI})
    event_id: str = ""
    rows: dict = field(default_factory=lambda: {"session": [], "speaker": [], "ticket": []})
    committed: dict = field(default_factory=dict)  # counter -> times its writes answered
    job_lags: list[float] = field(default_factory=list)

    def __post_init__(self):
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def request(self, kind, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        self.connection.request(method, path, body=data, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        self.samples.append(
            Sample(kind, response.status, time.perf_counter() - started, time.monotonic())
        )
        return response.status, json.loads(payload) if payload else None

    def sign_up(self):
        """Account, token and event, each asked again (as a client would) while the server
        answers 503 with Retry-After."""
        email = f"client{self.number}-{secrets.token_hex(4)}@example.org"
        password = secrets.token_urlsafe(12)
        user = {"data": {"type": "user", "attributes": {"email": email, "password": password}}}
        self._set_up("POST", "/v1/users", user, 201)
        credentials = {"email": email, "password": password}
        token = self._set_up("POST", "/v1/auth/login", credentials, 200)["access_token"]
        self.headers["Authorization"] = f"Bearer {token}"
        event = {
            "name": f"Bench event {self.number}",
            "timezone": "Asia/Singapore",
            "starts-at": "2030-03-17T09:00:00",
            "ends-at": "2030-03-19T18:00:00",
        }
        body = self._set_up(
            "POST", "/v1/events", {"data": {"type": "event", "attributes": event}}, 201
        )
        self.event_id = body["data"]["id"]
        self._committed("event")

    def _set_up(self, method, path, body, expected, attempts=30):
        for _ in range(attempts):
            status, document = self.request("setup", method, path, body)
            if status == expected:
                return document
            if status != 503:
                break
            time.sleep(0.5)
        raise RuntimeError(f"client {self.number}: {method} {path} answered {status} {document}")

    def write(self):
        action = self.rng.choice(WRITES)
        model = (
            "event"
            if action == "patch-event"
            else self.rng.choice(("session", "speaker", "ticket"))
        )
        attributes = {"title" if model == "session" else "name": self._text()}
        if model == "event" or (action == "patch" and self.rows[model]):
            row_id = self.event_id if model == "event" else self.rng.choice(self.rows[model])
            body = {"data": {"type": model, "id": row_id, "attributes": attributes}}
            if self.request("write", "PATCH", f"/v1/{model}s/{row_id}", body)[0] == 200:
                self._committed(model)
            return
        event = {"data": {"type": "event", "id": self.event_id}}
        body = {
            "data": {"type": model, "attributes": attributes, "relationships": {"event": event}}
        }
        status, document = self.request("write", "POST", f"/v1/{model}s", body)
        if status == 201:
            self.rows[model].append(document["data"]["id"])
            self._committed(model)

    def read(self):
        what = self.rng.choice(READS)
        event = f"/v1/events/{self.event_id}"
        if what == "event":
            path = event
        elif what == "session" and self.rows["session"]:
            path = f"/v1/sessions/{self.rng.choice(self.rows['session'])}"
        else:
            path = f"{event}/{'sessions' if what == 'session' else what}"
        status, document = self.request("read", "GET", path)
        if what == "versions" and status == 200:
            self._job_lag(document["data"]["attributes"])

    def _committed(self, model: str) -> None:
        self.committed.setdefault(COUNTER_OF[model], []).append(self.samples[-1].answered)

    def _job_lag(self, counters: dict[str, int]) -> None:
        """How long the oldest of this client's writes not yet counted has been committed: the
        jobs run in order, one bump per committed write, so counter n means n writes counted."""
        now = self.samples[-1].answered
        lags = [
            now - times[counters[name]]
            for name, times in self.committed.items()
            if counters[name] < len(times)
        ]
        self.job_lags.append(max(lags, default=0.0))

    def expected_counters(self) -> dict[str, int]:
        return {name: len(times) for name, times in self.committed.items()}

    def _text(self) -> str:
        return f"Bench {self.number} {secrets.token_hex(3)}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ini(folder: Path, port: int) -> Path:
    """development.ini in ``folder`` (so %(here)s/var is the scratch folder), on ``port``."""
    text = (ROOT / "development.ini").read_text()
    text, replaced = re.subn(r"(?m)^listen = .*$", f"listen = 127.0.0.1:{port}", text)
    assert replaced == 1, "development.ini has no listen line"
    ini = folder / "development.ini"
    ini.write_text(text)
    (folder / "var").mkdir()
    return ini


def _wait_healthy(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited at start-up; see its log")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not answer /healthz in time")


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def _catch_up(clients: list[Client], port: int, timeout: float) -> float | None:
    """When (time.monotonic()) every event's version counters had reached its committed
    writes, or None if they had not within ``timeout`` seconds."""
    started = time.monotonic()
    pending = list(clients)
    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while pending and time.monotonic() - started < timeout:
        still = []
        for client in pending:
            probe.request("GET", f"/v1/events/{client.event_id}/versions", headers=client.headers)
            counters = json.loads(probe.getresponse().read())["data"]["attributes"]
            expected = client.expected_counters()
            if any(counters[name] < count for name, count in expected.items()):
                still.append(client)
        pending = still
        if pending:
            time.sleep(0.02)
    return None if pending else time.monotonic()


def run(label: str, url: str, args, workdir: Path) -> dict:
    port = _free_port()
    ini = _ini(workdir, port)
    env = {**os.environ, "OPENEVENT_DATABASE_URL": url}
    subprocess.run(
        [BIN / "openevent", "db", "upgrade", str(ini)],
        env=env,
        check=True,
        capture_output=True,
    )
    log_path = workdir / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [BIN / "pserve", str(ini)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_healthy(port, server)
        clients = [Client(port, number, random.Random(number)) for number in range(args.clients)]
        errors: list[BaseException] = []
        budget = threading.Semaphore(args.max_requests)
        timing: dict[str, float] = {}

        def go() -> None:  # when every client has its account and event: the clock starts
            timing["began"] = time.monotonic()

        signed_up = threading.Barrier(args.clients, action=go)

        def work(client: Client) -> None:
            try:
                client.sign_up()
                signed_up.wait()
                deadline = timing["began"] + args.seconds
                while time.monotonic() < deadline and budget.acquire(blocking=False):
                    if client.rng.random() < args.write_share:
                        client.write()
                    else:
                        client.read()
            except BaseException as error:  # reported below
                errors.append(error)
                signed_up.abort()

        threads = [threading.Thread(target=work, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - timing.get("began", time.monotonic())
        if errors:
            raise errors[0]
        samples = [sample for client in clients for sample in client.samples]
        last_write = max(s.answered for s in samples if s.kind != "read")
        caught_up = _catch_up(clients, port, args.catch_up_timeout)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    log_text = log_path.read_text()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            failures = connection.scalar(select(func.count()).select_from(JobFailure))
            redelivered = connection.scalar(select(func.count()).where(JobDelivery.deliveries > 1))
            jobs = connection.scalar(select(func.count()).select_from(JobDelivery))
    finally:
        engine.dispose()
    statuses = Counter(s.status for s in samples)
    reads = [s.seconds for s in samples if s.kind == "read"]
    writes = [s.seconds for s in samples if s.kind == "write"]
    accounts = [s.seconds for s in samples if s.kind == "setup"]
    lags = [lag for client in clients for lag in client.job_lags]
    return {
        "database": label,
        "mixed phase (s)": elapsed,
        "requests": len(samples),
        "reads": len(reads),
        "writes": len(writes),
        "set-up requests (before the clock)": len(accounts),
        "set-up p50 ms": _percentile(accounts, 0.5),
        "set-up max ms": _percentile(accounts, 1),
        "statuses": " ".join(f"{status}:{n}" for status, n in sorted(statuses.items())),
        "503": statuses[503],
        "5xx": sum(n for status, n in statuses.items() if status >= 500),
        "read p50 ms": _percentile(reads, 0.5),
        "read p99 ms": _percentile(reads, 0.99),
        "write p50 ms": _percentile(writes, 0.5),
        "write p99 ms": _percentile(writes, 0.99),
        "jobs": jobs,
        "job lag seen by clients p50 ms": _percentile(lags, 0.5),
        "job lag seen by clients p99 ms": _percentile(lags, 0.99),
        "job lag seen by clients max ms": _percentile(lags, 1),
        "'database is locked' in log": log_text.count("database is locked"),
        "'database busy' (503) warnings": log_text.count("database busy on"),
        "job_failures rows": failures,
        "jobs delivered more than once": redelivered,
        "counters caught up after the last write (s)": (
            None if caught_up is None else caught_up - last_write
        ),
    }


def _print(results: list[dict]) -> None:
    width = max(len(key) for key in results[0])
    print()
    print(f"{'':{width}}  " + "  ".join(f"{r['database']:>24}" for r in results))
    for key in results[0]:
        if key == "database":
            continue
        cells = []
        for result in results:
            value = result[key]
            if isinstance(value, float):
                value = f"{value:.1f}" if key.endswith("ms") else f"{value:.2f}"
            elif value is None:
                value = "not caught up"
            cells.append(f"{value!s:>24}")
        print(f"{key:{width}}  " + "  ".join(cells))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="duration per database (60)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (16)")
    parser.add_argument(
        "--write-share", type=float, default=0.5, help="share of requests that write (0.5)"
    )
    parser.add_argument(
        "--max-requests", type=int, default=200_000, help="cap on requests per database"
    )
    parser.add_argument(
        "--catch-up-timeout",
        type=float,
        default=120,
        help="how long to wait for the version counters after the last write (120 s)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(TEST_DATABASE_ENV),
        help=f"a PostgreSQL server to also run on (default: ${TEST_DATABASE_ENV})",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--keep", action="store_true", help="keep the folders (server logs)")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 3600 or not 1 <= args.clients <= 256:
        parser.error("--seconds must be in (0, 3600] and --clients in [1, 256]")

    databases = [] if args.no_sqlite else [("sqlite", None)]
    if args.database_url:
        databases.append(("postgresql", args.database_url))
    results = []
    for label, server in databases:
        workdir = Path(tempfile.mkdtemp(prefix=f"openevent-bench-{label}-"))
        try:
            with new_database(server, workdir / "var" / "openevent.sqlite") as url:
                print(f"{label}: {args.clients} clients for {args.seconds:g} s ...", flush=True)
                results.append(run(label, url, args, workdir))
        finally:
            if args.keep:
                print(f"{label}: server log and files kept in {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    _print(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
