"""pytest fixtures for openevent and for plugins' test suites (a pytest plugin).

Installed with openevent (entry point ``pytest11``), so any test suite gets these fixtures.

The test app loads every installed plugin, unless the ini option ``openevent_plugins`` names
the only ones to load; a plugin's own suite names itself, so that the other plugins installed
beside it (their routes, subscribers and jobs) stay out of its tests::

    # pyproject.toml
    [tool.pytest.ini_options]
    openevent_plugins = ["badges"]

Fixtures (each ``name`` here is one; a test names those it needs):

- ``fast_password_hashing`` (automatic, per run): argon2 with test-sized costs.
- ``test_database_url`` (per run): this run's database: a SQLite file in a temporary folder,
  or a fresh PostgreSQL database when ``OPENEVENT_TEST_DATABASE_URL`` is set (created at the
  start of the run, dropped at the end).
- ``app_settings`` (per run): the test app's settings, on that database, with a stub broker,
  memory storage and ``openevent_plugins``. Override it in a conftest.py to add a plugin's own.
- ``app_config`` / ``wsgi_app`` (per run): the Configurator ``configure()`` returns, its
  database migrated to ``heads`` by the real migrations, and its WSGI app.
- ``registry``: the app's registry.
- ``db_connection``: a database transaction rolled back at the end of the test. The app's
  sessions join it through savepoints, so a request commits or aborts as it would in
  production (after-commit hooks run) and the next test still starts from an empty database.
  ``tm``, ``dbsession``, ``testapp`` and ``run_jobs`` use it.
- ``tm`` / ``dbsession``: a transaction manager and a session for the test's own set-up and
  checks. ``dbsession.flush()`` before a request makes rows visible to it;
  ``dbsession.expire_all()`` after it shows its writes.
- ``testapp``: a ``webtest.TestApp`` around the app.
- ``empty_database_url``: a database of the test's own, never migrated, for migration tests.
- ``ini_file``: ``ini_file(extra="")`` writes an operator's ini file on the test's own
  ``empty_database_url`` (``extra`` appended to its ``[app:main]``), for CLI tests.
- ``captured_changes``: a list that receives every model change (:mod:`openevent.changes`)
  delivered during the test, in delivery order.
- ``mute_changes``: change delivery is off for the test (the ``openevent.changes.deliver``
  setting), as for a bulk import or a test that does not care.
- ``count_statements``: ``with count_statements() as statements:`` lists the SQL statements
  the block runs on the test's connection (not SAVEPOINT, BEGIN and the like).
- ``login``: ``login(user, password="correct horse")`` logs in through the API and returns
  request headers carrying the new bearer token.
- ``token_for``: ``token_for(user)`` returns the same headers with a token issued directly:
  faster (password hashing is slow on purpose), for tests that are not about logging in.
- ``broker``: the app's job broker (a Dramatiq ``StubBroker``), emptied before and after the test.
- ``run_jobs``: ``run_jobs()`` runs every job message the test enqueued (and those they enqueue,
  retries included) to completion with a worker of its own, and returns how many messages were
  processed. A job that fails on its last retry makes it raise that job's exception, unless
  ``run_jobs(fail_fast=False)``. It can be called several times in a test.
- ``memory_storage``: a fresh, empty memory storage (:mod:`openevent.storage`) that is the
  app's storage (``request.storage``, ``ctx.storage``) for the test, the previous one restored
  after it.
- ``gcs_emulator`` (per run): the ``gcp-storage-emulator`` package serving on a free loopback
  port in a process of its own, ``STORAGE_EMULATOR_HOST`` pointing at it (so the gcs backend's
  client uses it, with anonymous credentials), and a bucket of this run's own. A
  :class:`GCSEmulator`: ``.host``, ``.bucket``, ``.client``, ``.service_account`` (a throwaway
  service-account key generated for the run, which signs URLs as a real key would), and
  ``.storage(secret, **options)`` for a gcs storage on the bucket.
- ``gcs_storage``: a gcs storage (:class:`openevent.storage.gcs.GCSStorage`) on the emulator's
  bucket, emptied before and after the test; it signs URLs with the run's throwaway key.
- ``redis_registry``: the registry of a second app whose broker is the Redis at
  ``OPENEVENT_TEST_REDIS_URL``, under a namespace of this run's own (deleted at the end),
  its sessions joined to the test's transaction. Tests using it are skipped without that
  variable.

Helpers to import (not fixtures): ``JSONAPI_HEADERS``; ``jsonapi_document(type, attributes,
id, **relationships)`` builds a request body; the factories ``make_user``, ``make_event``,
``make_session``, ``make_speaker`` and ``make_ticket`` add a valid row (any field overridden)
and flush it; ``new_database`` makes a database of one's own, as the database fixtures do;
``started_gcs_emulator`` is a context manager running the GCS emulator (yielding its URL);
``throwaway_service_account(folder)`` generates a service-account key, as the gcs_emulator
fixture does, for benchmarks and scripts.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import transaction
from alembic import command
from argon2 import PasswordHasher
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import create_engine, event, func, select
from transaction.interfaces import NoTransaction

from openevent.changes import DELIVER_SETTING, ModelChanged
from openevent.config import configure
from openevent.db import get_tm_session
from openevent.db.migrations import alembic_config
from openevent.db.session import database_url
from openevent.jobs import BROKER_KEY, declare_known_jobs
from openevent.jobs.broker import bookkeeping
from openevent.jobs.worker import started_worker
from openevent.models import Event, EventRole, Role, Session, Speaker, Ticket, User
from openevent.models import user as user_module
from openevent.security import issue_token
from openevent.storage import STORAGE_KEY, MemoryStorage

TEST_DATABASE_ENV = "OPENEVENT_TEST_DATABASE_URL"
TEST_REDIS_ENV = "OPENEVENT_TEST_REDIS_URL"
# The ini option (pyproject.toml's [tool.pytest.ini_options]) naming the plugins to load.
PLUGINS_INI = "openevent_plugins"
# Statements that only manage the per-test transaction; they are not the code's own work.
_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


@contextmanager
def new_database(server_url: str | None, sqlite_path) -> Iterator[str]:
    """A database of its own: a new one on the PostgreSQL server of ``server_url``, dropped
    afterwards, or the SQLite file ``sqlite_path`` (a path, or a callable giving one) when
    there is no server. For tests and benchmarks, which never touch a database they did not
    create."""
    if not server_url:
        yield f"sqlite:///{sqlite_path() if callable(sqlite_path) else sqlite_path}"
        return
    url = database_url(server_url)
    name = f"openevent_test_{secrets.token_hex(6)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def test_database_url(tmp_path_factory) -> Iterator[str]:
    """This run's database: a SQLite file, or a new PostgreSQL database dropped at the end."""
    server = os.environ.get(TEST_DATABASE_ENV)
    with new_database(server, lambda: tmp_path_factory.mktemp("db") / "openevent.sqlite") as url:
        yield url


@pytest.fixture
def empty_database_url(tmp_path) -> Iterator[str]:
    """A database of the test's own, never migrated, for migration and CLI tests."""
    with new_database(os.environ.get(TEST_DATABASE_ENV), tmp_path / "empty.sqlite") as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Cheap argon2 parameters for tests: hashing stays real, only its cost is lowered."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            user_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        yield


@pytest.fixture
def ini_file(tmp_path, empty_database_url, monkeypatch):
    """``ini_file(extra="")`` writes an ini file like an operator's, for the CLI, on a database
    of the test's own (never migrated), and returns its path; ``extra`` is appended."""
    monkeypatch.delenv("OPENEVENT_DATABASE_URL", raising=False)

    def _write(extra: str = "") -> str:
        path = tmp_path / "site.ini"
        url = empty_database_url.replace("%", "%%")
        path.write_text(
            "[app:main]\n"
            "use = egg:openevent\n"
            f"sqlalchemy.url = {url}\n"
            "openevent.secret = a-test-secret-of-enough-length\n"
            "openevent.storage = memory\n" + extra
        )
        return str(path)

    return _write


def pytest_addoption(parser):
    parser.addini(
        PLUGINS_INI,
        type="args",
        help="the only openevent plugins the test app loads, by name (default: every "
        "installed plugin)",
    )


@pytest.fixture(scope="session")
def app_settings(test_database_url, tmp_path_factory, pytestconfig) -> dict:
    """Settings of the test app; override in a conftest.py to add a plugin's own."""
    settings = {
        "sqlalchemy.url": test_database_url,
        "openevent.secret": "test-secret-not-for-production",
        "openevent.broker_url": "stub",
        "openevent.storage": "memory",
        "openevent.storage.local_path": str(tmp_path_factory.mktemp("files")),
    }
    plugins = pytestconfig.getini(PLUGINS_INI)
    if plugins:
        settings["openevent.plugins"] = " ".join(plugins)
    return settings


@pytest.fixture(scope="session")
def app_config(app_settings):
    """The Configurator returned by ``configure()``, with the database migrated to head."""
    config = configure(app_settings)
    settings = config.get_settings()
    with config.registry["dbengine"].begin() as connection:
        command.upgrade(alembic_config(settings, connection=connection), "heads")
    yield config
    config.registry["dbengine"].dispose()


@pytest.fixture(scope="session")
def wsgi_app(app_config):
    return app_config.make_wsgi_app()


@pytest.fixture
def registry(app_config):
    return app_config.registry


@pytest.fixture
def db_connection(registry) -> Iterator:
    """A connection in a transaction that is rolled back after the test, joined by every session."""
    engine = registry["dbengine"]
    session_factory = registry["dbsession_factory"]
    connection = engine.connect()
    outer = connection.begin()
    session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield connection
    finally:
        session_factory.configure(bind=engine, join_transaction_mode="conditional_savepoint")
        outer.rollback()
        connection.close()


@pytest.fixture
def tm(db_connection) -> Iterator[transaction.TransactionManager]:
    """The test's own transaction manager, begun; aborted after the test."""
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    yield manager
    with suppress(NoTransaction):  # the test may have committed and not begun again
        manager.abort()


@pytest.fixture
def dbsession(registry, tm):
    """A session for set-up and assertions, in the test's transaction."""
    return get_tm_session(registry["dbsession_factory"], tm)


@pytest.fixture
def testapp(wsgi_app, db_connection):
    """The app behind webtest; requests run their own transactions inside the test's."""
    import webtest  # only with the `testing` extra; keep the plugin importable without it

    return webtest.TestApp(wsgi_app, extra_environ={"HTTP_HOST": "example.com"})


@pytest.fixture
def captured_changes(registry) -> Iterator[list]:
    """Every change delivered during the test, in order."""
    captured: list = []

    def capture(change):
        captured.append(change)

    registry.registerHandler(capture, (ModelChanged,))
    yield captured
    registry.unregisterHandler(capture, (ModelChanged,))


@pytest.fixture
def mute_changes(registry) -> Iterator[None]:
    """No change is delivered during the test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(registry.settings, DELIVER_SETTING, False)
        yield


@pytest.fixture
def count_statements(db_connection):
    """``with count_statements() as statements:`` lists the SQL the block runs."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def _record(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
                statements.append(statement)

        event.listen(db_connection, "before_cursor_execute", _record)
        try:
            yield statements
        finally:
            event.remove(db_connection, "before_cursor_execute", _record)

    return counting


@pytest.fixture
def memory_storage(registry) -> Iterator[MemoryStorage]:
    """A fresh memory storage as the app's storage for this test."""
    previous = registry[STORAGE_KEY]
    storage = MemoryStorage(registry.settings["openevent.secret"])
    registry[STORAGE_KEY] = storage
    yield storage
    registry[STORAGE_KEY] = previous


class GCSEmulator:
    """The emulator the ``gcs_emulator`` fixture started: see the module docstring."""

    def __init__(self, host: str, bucket: str, service_account):
        from google.cloud import storage as gcs

        self.host = host
        self.bucket = bucket
        self.service_account = service_account
        self.client = gcs.Client(project=None)  # STORAGE_EMULATOR_HOST: anonymous
        created = self.client.create_bucket(bucket)
        # Deleted objects are gone at once (the default keeps them for a week, in memory).
        created.soft_delete_policy.retention_duration_seconds = 0
        created.patch()

    def storage(self, secret: str, **options):
        """A gcs storage on this run's bucket, signing URLs with the run's throwaway key."""
        from openevent.storage.gcs import GCSStorage

        options.setdefault("signing_credentials", self.service_account.credentials)
        return GCSStorage(self.bucket, secret, client=self.client, **options)

    def empty(self) -> None:
        """Delete every object of the bucket."""
        for blob in self.client.list_blobs(self.bucket):
            blob.delete()


def throwaway_service_account(folder) -> SimpleNamespace:
    """A service account key generated on the spot (RSA 2048), as Google issues them:
    ``info`` (the key file's contents), ``key_file`` (written under ``folder``),
    ``credentials`` and ``public_key``, to check the signatures it makes."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    info = {
        "type": "service_account",
        "project_id": "openevent-test",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": "files@openevent-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    key_file = folder / "service-account.json"
    key_file.write_text(json.dumps(info))
    return SimpleNamespace(
        info=info,
        key_file=str(key_file),
        credentials=service_account.Credentials.from_service_account_info(info),
        public_key=key.public_key(),
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def started_gcs_emulator() -> Iterator[str]:
    """Run ``gcp-storage-emulator`` (in memory) on a free loopback port; yield its URL."""
    import urllib.request

    for _attempt in range(3):
        port = _free_port()
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gcp_storage_emulator", "start"),
                *("--host", "127.0.0.1", "--port", str(port), "--in-memory", "--quiet"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        host = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(host + "/", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        if process.poll() is None and time.monotonic() < deadline:
            try:
                yield host
            finally:
                process.terminate()
                process.wait(timeout=10)
            return
        process.kill()
        process.wait()
    raise RuntimeError("gcp-storage-emulator did not start (is the testing extra installed?)")


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory) -> Iterator[GCSEmulator]:
    """The GCS emulator for this run, with a bucket of its own (see the module docstring)."""
    account = throwaway_service_account(tmp_path_factory.mktemp("gcs"))
    with started_gcs_emulator() as host, pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", host)
        yield GCSEmulator(host, f"openevent-test-{secrets.token_hex(6)}", account)


@pytest.fixture
def gcs_storage(gcs_emulator):
    """A gcs storage on the emulator's bucket, empty for the test."""
    gcs_emulator.empty()
    yield gcs_emulator.storage("test-secret-not-for-production")
    gcs_emulator.empty()


@pytest.fixture
def broker(registry) -> Iterator[StubBroker]:
    """The app's job broker, with no message left over from another test."""
    broker = registry[BROKER_KEY]
    broker.flush_all()
    yield broker
    broker.flush_all()


@pytest.fixture
def run_jobs(registry, broker, db_connection):
    """``run_jobs()`` processes every enqueued job message; returns how many it processed."""

    def _run_jobs(*, fail_fast: bool = True, timeout_ms: int = 30_000) -> int:
        declare_known_jobs(registry)
        counter = bookkeeping(broker)
        processed_before = counter.processed
        failed_before = len(broker.dead_letters)
        # One thread: the jobs share the test's database connection, one at a time.
        with started_worker(broker, worker_timeout=10, worker_threads=1) as worker:
            for queue_name in list(broker.queues):
                if not queue_name.endswith(".DQ"):
                    broker.join(queue_name, timeout=timeout_ms, fail_fast=False)
            worker.join()
        failed = broker.dead_letters[failed_before:]
        if fail_fast and failed:
            raise failed[0]._exception or RuntimeError(f"job {failed[0].actor_name} failed")
        return counter.processed - processed_before

    return _run_jobs


@pytest.fixture(scope="session")
def _redis_app_config(app_settings):
    url = os.environ.get(TEST_REDIS_ENV)
    if not url:
        pytest.skip(f"needs a Redis broker: set {TEST_REDIS_ENV}, e.g. redis://127.0.0.1:6379/0")
    namespace = f"openevent-test-{secrets.token_hex(6)}"
    config = configure(
        {**app_settings, "openevent.broker_url": url, "openevent.jobs.redis_namespace": namespace}
    )
    yield config
    broker = config.registry[BROKER_KEY]
    keys = list(broker.client.scan_iter(f"{namespace}*"))
    if keys:
        broker.client.delete(*keys)
    broker.close()
    config.registry["dbengine"].dispose()


@pytest.fixture
def redis_registry(_redis_app_config, db_connection) -> Iterator:
    """An app on a real Redis broker, its sessions in the test's transaction."""
    registry = _redis_app_config.registry
    session_factory = registry["dbsession_factory"]
    session_factory.configure(bind=db_connection, join_transaction_mode="create_savepoint")
    registry[BROKER_KEY].flush_all()
    try:
        yield registry
    finally:
        registry[BROKER_KEY].flush_all()
        session_factory.configure(
            bind=registry["dbengine"], join_transaction_mode="conditional_savepoint"
        )


JSONAPI_HEADERS = {"Content-Type": "application/vnd.api+json"}


@pytest.fixture
def login(testapp):
    """``login(user)`` returns request headers carrying a fresh bearer token for ``user``."""

    def _login(user, password: str = "correct horse") -> dict:
        response = testapp.post_json(
            "/v1/auth/login", {"email": user.email, "password": password}, status=200
        )
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return _login


@pytest.fixture
def token_for(registry, dbsession):
    """``token_for(user)``: Authorization headers with a token issued directly, no login round
    trip (password hashing makes logins deliberately slow)."""

    def _token_for(user) -> dict:
        issuer = SimpleNamespace(registry=registry, dbsession=dbsession)
        token, _ = issue_token(issuer, user)
        return {"Authorization": f"Bearer {token}"}

    return _token_for


def jsonapi_document(type_: str, attributes: dict | None = None, id=None, **relationships):
    """A request document; relationships are given as ``event=("event", 1)`` or lists."""
    data: dict = {"type": type_, "attributes": attributes or {}}
    if id is not None:
        data["id"] = str(id)
    links = {}
    for name, target in relationships.items():
        name = name.replace("_", "-")
        if target is None:
            links[name] = {"data": None}
        elif isinstance(target, list):
            links[name] = {"data": [{"type": t, "id": str(i)} for t, i in target]}
        else:
            links[name] = {"data": {"type": target[0], "id": str(target[1])}}
    if links:
        data["relationships"] = links
    return {"data": data}


# Factories: small functions that add a valid row with any field overridden, and flush it.


def make_user(
    dbsession, email: str | None = None, password: str | None = "correct horse", **fields
):
    """A user; ``password=None`` skips the (slow, on purpose) hashing for users who never log in."""
    user = User(email=email or f"user-{secrets.token_hex(4)}@example.org", **fields)
    if password is None:
        user.password_hash = "!"  # matches no password
    else:
        user.set_password(password)
    dbsession.add(user)
    dbsession.flush()
    return user


def make_event(dbsession, owner: User | None = None, **fields) -> Event:
    starts_at = fields.pop("starts_at", datetime(2030, 3, 17, 1, 0, tzinfo=UTC))
    values = {
        "name": "FOSSASIA Summit",
        "timezone": "Asia/Singapore",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(days=3),
        **fields,
    }
    event_ = Event(**values)
    dbsession.add(event_)
    if owner is not None:
        dbsession.add(EventRole(event=event_, user=owner, role=Role.OWNER))
    dbsession.flush()
    return event_


def make_session(dbsession, event_: Event, **fields) -> Session:
    session = Session(event=event_, **{"title": "Keynote", **fields})
    dbsession.add(session)
    dbsession.flush()
    return session


def make_speaker(dbsession, event_: Event, **fields) -> Speaker:
    speaker = Speaker(event=event_, **{"name": "Ada Lovelace", **fields})
    dbsession.add(speaker)
    dbsession.flush()
    return speaker


def make_ticket(dbsession, event_: Event, **fields) -> Ticket:
    if "position" not in fields:
        last = select(func.max(Ticket.position)).where(
            Ticket.event_id == event_.id, Ticket.deleted_at.is_(None)
        )
        fields["position"] = (dbsession.scalar(last) or 0) + 1
    ticket = Ticket(event=event_, **{"name": "Standard", **fields})
    dbsession.add(ticket)
    dbsession.flush()
    return ticket
