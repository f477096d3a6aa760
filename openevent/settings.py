"""Typed settings, declared once, read from the ini file with environment overrides.

Every setting openevent reads is declared in ``SETTINGS`` with its type, default and the
environment variable that overrides the ini value. :func:`load_settings` turns the raw strings
from paste-deploy into typed values and stops start-up with a :class:`SettingsError` naming the
first bad key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_REQUIRED = object()


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the key."""


def as_bool(value: str) -> bool:
    """Parse the usual ini spellings of a boolean."""
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def as_list(value: str) -> list[str]:
    """Split on commas and whitespace, dropping empty items."""
    return value.replace(",", " ").split()


def as_plugin_allow_list(value: str) -> tuple[str, ...] | None:
    """Plugin names to load; ``*`` (like an empty value) means every installed plugin."""
    names = as_list(value)
    return None if "*" in names else tuple(names)


def as_positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("expected a positive whole number")
    return number


def as_non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("expected zero or a positive whole number")
    return number


def as_database_url(value: str) -> str:
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("expected a database URL such as postgresql://user@host/db") from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ValueError("only sqlite and postgresql databases are supported")
    return value


def as_broker_url(value: str) -> str:
    if value == "stub" or value.startswith(("redis://", "rediss://", "amqp://", "amqps://")):
        return value
    raise ValueError("expected stub, redis://... or amqp://...")


def as_gcs_public_objects(value: str) -> str:
    if value not in {"acl", "app"}:
        raise ValueError("expected acl or app")
    return value


def as_service_account_email(value: str) -> str:
    if value and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        raise ValueError("expected a service account email such as files@p.iam.gserviceaccount.com")
    return value


def as_storage_backend(value: str) -> str:
    # Which names are installed is checked when the storage is built (openevent.storage).
    if not re.fullmatch(r"[a-z][a-z0-9_-]*", value):
        raise ValueError("expected a storage backend name such as local, gcs or memory")
    return value


def as_base_url(value: str) -> str:
    """An absolute http(s) URL or a path starting with ``/``, without its trailing slash."""
    parsed = urlsplit(value)
    absolute = parsed.scheme in {"http", "https"} and parsed.netloc
    if not (absolute or (value.startswith("/") and not value.startswith("//"))):
        raise ValueError("expected an http(s):// URL or a path starting with /")
    if parsed.query or parsed.fragment:
        raise ValueError("a base URL has no query or fragment")
    return value.rstrip("/")


def as_secret(value: str) -> str:
    if len(value) < 16:
        raise ValueError("must be at least 16 characters long")
    return value


@dataclass(frozen=True)
class Setting:
    """One declared setting: ini key, parser, default and environment override."""

    key: str
    parse: Callable[[str], Any]
    default: Any = _REQUIRED
    env: str | None = None
    help: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "sqlalchemy.url",
        as_database_url,
        env="OPENEVENT_DATABASE_URL",
        help="database URL (sqlite:///... or postgresql://...)",
    ),
    Setting(
        "openevent.secret",
        as_secret,
        env="OPENEVENT_SECRET",
        help="secret used to sign tokens; at least 16 characters",
    ),
    Setting(
        "openevent.broker_url",
        as_broker_url,
        default="stub",
        env="OPENEVENT_BROKER_URL",
        help="job broker: stub (in memory), redis://... or amqp://...",
    ),
    Setting(
        "openevent.jobs.in_process_worker",
        as_bool,
        default=False,
        env="OPENEVENT_IN_PROCESS_WORKER",
        help="run a job worker thread inside the web process (development only)",
    ),
    Setting(
        "openevent.plugins",
        as_plugin_allow_list,
        default=None,
        env="OPENEVENT_PLUGINS",
        help="plugins to load, by entry point name; empty or * loads every installed plugin",
    ),
    Setting(
        "openevent.plugins.disabled",
        lambda value: tuple(as_list(value)),
        default=(),
        env="OPENEVENT_PLUGINS_DISABLED",
        help="plugins not to load, even if installed or listed in openevent.plugins",
    ),
    Setting(
        "openevent.jobs.redis_namespace",
        str,
        default="openevent",
        env="OPENEVENT_JOBS_REDIS_NAMESPACE",
        help="prefix of the job queues' keys in Redis",
    ),
    # A Redis worker that dies (SIGKILL, OOM, lost host) leaves the messages it had fetched
    # unacknowledged; Dramatiq puts them back on their queue once the worker has sent no
    # heartbeat for this long. Shorter recovers a dead worker's jobs sooner; too short, and a
    # live worker that is merely stalled (a long pause, a slow network) is taken for dead and
    # its jobs in progress run a second time alongside it. Dramatiq's default: 60 s.
    Setting(
        "openevent.jobs.redis_heartbeat_timeout_ms",
        as_positive_int,
        default=60_000,
        env="OPENEVENT_JOBS_REDIS_HEARTBEAT_TIMEOUT_MS",
        help="silence after which a Redis worker counts as dead and its unacknowledged jobs "
        "are queued again, in milliseconds",
    ),
    # That recovery runs as "maintenance", on a random share of the broker commands (chiefly
    # the polls of idle workers) for the queue the command is about. A higher chance recovers
    # sooner at the cost of a little more work in Redis per command. Dramatiq's default: 1000.
    Setting(
        "openevent.jobs.redis_maintenance_chance",
        as_positive_int,
        default=1_000,
        env="OPENEVENT_JOBS_REDIS_MAINTENANCE_CHANCE",
        help="Redis broker commands per million that also requeue dead workers' jobs and "
        "expire old dead letters",
    ),
    Setting(
        "openevent.jobs.max_retries",
        as_non_negative_int,
        default=10,
        env="OPENEVENT_JOBS_MAX_RETRIES",
        help="how many times a failing job is retried before it is recorded as failed",
    ),
    Setting(
        "openevent.jobs.min_backoff_ms",
        as_positive_int,
        default=15_000,
        env="OPENEVENT_JOBS_MIN_BACKOFF_MS",
        help="delay before a failed job's first retry, in milliseconds (doubles each time)",
    ),
    Setting(
        "openevent.jobs.max_backoff_ms",
        as_positive_int,
        default=3_600_000,
        env="OPENEVENT_JOBS_MAX_BACKOFF_MS",
        help="longest delay between two retries of a job, in milliseconds",
    ),
    Setting(
        "openevent.jobs.relay_grace_seconds",
        as_positive_int,
        default=60,
        env="OPENEVENT_JOBS_RELAY_GRACE_SECONDS",
        help="age after which an outbox message not confirmed sent is sent again, in seconds",
    ),
    Setting(
        "openevent.jobs.relay_interval_seconds",
        as_positive_int,
        default=30,
        env="OPENEVENT_JOBS_RELAY_INTERVAL_SECONDS",
        help="how often a worker relays unsent outbox messages, in seconds",
    ),
    Setting(
        "openevent.changes.deliver",
        as_bool,
        default=True,
        env="OPENEVENT_CHANGES_DELIVER",
        help="deliver model changes to subscribers at and after each commit; false mutes them",
    ),
    Setting(
        "openevent.storage",
        as_storage_backend,
        default="local",
        env="OPENEVENT_STORAGE",
        help="file storage backend: local, gcs, memory or one a plugin installs",
    ),
    Setting(
        "openevent.storage.public_base_url",
        as_base_url,
        default="",
        env="OPENEVENT_STORAGE_PUBLIC_BASE_URL",
        help="where public objects are served from (a CDN, or a web server serving the local "
        "storage folder); empty: the app serves them at /files/",
    ),
    Setting(
        "openevent.storage.local_path",
        str,
        default="var/files",
        env="OPENEVENT_STORAGE_LOCAL_PATH",
        help="folder for the local storage backend",
    ),
    Setting(
        "openevent.storage.gcs_bucket",
        str,
        default="",
        env="OPENEVENT_STORAGE_GCS_BUCKET",
        help="Google Cloud Storage bucket for the gcs storage backend",
    ),
    Setting(
        "openevent.import.max_upload_bytes",
        as_positive_int,
        default=200 * 1024**2,
        env="OPENEVENT_IMPORT_MAX_UPLOAD_BYTES",
        help="largest Open Event export POST /v1/events/import accepts, in bytes",
    ),
    Setting(
        "openevent.import.max_members",
        as_positive_int,
        default=10_000,
        env="OPENEVENT_IMPORT_MAX_MEMBERS",
        help="most files and folders an imported archive may hold",
    ),
    Setting(
        "openevent.import.max_uncompressed_bytes",
        as_positive_int,
        default=2 * 1024**3,
        env="OPENEVENT_IMPORT_MAX_UNCOMPRESSED_BYTES",
        help="most bytes an imported archive may hold once uncompressed, all files together",
    ),
    Setting(
        "openevent.import.max_member_bytes",
        as_positive_int,
        default=512 * 1024**2,
        env="OPENEVENT_IMPORT_MAX_MEMBER_BYTES",
        help="largest file an imported archive may hold, uncompressed, in bytes",
    ),
    Setting(
        "openevent.import.max_json_bytes",
        as_positive_int,
        default=64 * 1024**2,
        env="OPENEVENT_IMPORT_MAX_JSON_BYTES",
        help="largest collection file (JSON, read whole) an imported archive may hold, in bytes",
    ),
    Setting(
        "openevent.import.max_compression_ratio",
        as_positive_int,
        default=200,
        env="OPENEVENT_IMPORT_MAX_COMPRESSION_RATIO",
        help="highest compression ratio of a file over 1 MiB in an imported archive (zip bombs)",
    ),
    Setting(
        "openevent.storage.gcs_public_objects",
        as_gcs_public_objects,
        default="acl",
        env="OPENEVENT_STORAGE_GCS_PUBLIC_OBJECTS",
        help="how the gcs backend makes public objects readable: acl (a publicRead ACL and the "
        "object's storage.googleapis.com URL; buckets with fine-grained access control) or app "
        "(no ACL; the app serves them at /files/, for uniform bucket-level access)",
    ),
    Setting(
        "openevent.storage.gcs_signing_service_account",
        as_service_account_email,
        default="",
        env="OPENEVENT_STORAGE_GCS_SIGNING_SERVICE_ACCOUNT",
        help="service account that signs the gcs backend's URLs through IAM signBlob when the "
        "credentials hold no private key; empty: the credentials' own account",
    ),
    Setting(
        "openevent.auth.token_lifetime_hours",
        as_positive_int,
        default=24 * 14,
        env="OPENEVENT_TOKEN_LIFETIME_HOURS",
        help="how long a login token stays valid, in hours",
    ),
    Setting(
        "openevent.api.max_body_bytes",
        as_positive_int,
        default=1024 * 1024,
        env="OPENEVENT_API_MAX_BODY_BYTES",
        help="largest JSON request body the API accepts, in bytes",
    ),
    Setting(
        "openevent.db.pool_size",
        as_positive_int,
        # A worker's 8 threads, its bookkeeping thread and its relay: with fewer, connections
        # beyond the pool are opened and closed for every job.
        default=10,
        env="OPENEVENT_DB_POOL_SIZE",
        help="database connections kept open per process (PostgreSQL, a SQLite file); at least"
        " a worker's threads + 2",
    ),
    Setting(
        "openevent.db.statement_timeout_ms",
        as_positive_int,
        default=30_000,
        env="OPENEVENT_DB_STATEMENT_TIMEOUT_MS",
        help="PostgreSQL statement_timeout for migrations, in milliseconds",
    ),
    Setting(
        "openevent.db.lock_timeout_ms",
        as_positive_int,
        default=5_000,
        env="OPENEVENT_DB_LOCK_TIMEOUT_MS",
        help="PostgreSQL lock_timeout for migrations, in milliseconds",
    ),
    Setting(
        "openevent.db.require_current_schema",
        as_bool,
        default=False,
        env="OPENEVENT_DB_REQUIRE_CURRENT_SCHEMA",
        help="refuse to start when the database is not at the code's migration heads; false "
        "starts anyway, logs it and answers API requests with 503 until migrated",
    ),
    Setting(
        "openevent.db.schema_recheck_seconds",
        lambda value: float(as_positive_int(value)),
        default=5.0,
        env="OPENEVENT_DB_SCHEMA_RECHECK_SECONDS",
        help="how long a check finding the database at head is trusted before the next one, "
        "in seconds",
    ),
)


def _checked(settings: Mapping[str, Any]) -> None:
    storage = settings["openevent.storage"]
    if storage == "gcs" and not settings["openevent.storage.gcs_bucket"]:
        raise SettingsError(
            "openevent.storage.gcs_bucket: required when openevent.storage = gcs"
            " (or set OPENEVENT_STORAGE_GCS_BUCKET)"
        )


def load_settings(
    raw: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return ``raw`` with every declared setting parsed; environment variables win.

    Undeclared keys (``pyramid.*``, ``tm.*``, plugin settings) pass through unchanged, so the
    result can be handed to the Configurator as it is.
    """
    environ = os.environ if environ is None else environ
    settings = dict(raw)
    for setting in SETTINGS:
        source = f"environment variable {setting.env}"
        value = environ.get(setting.env) if setting.env else None
        if value is None:
            value = raw.get(setting.key)
            source = "ini"
        if value is None or (isinstance(value, str) and not value.strip()):
            if setting.default is _REQUIRED:
                where = f" (or set {setting.env})" if setting.env else ""
                raise SettingsError(f"{setting.key}: required, {setting.help}{where}")
            settings[setting.key] = setting.default
            continue
        if not isinstance(value, str):
            # Already typed, as when a test or a script passes Python values.
            settings[setting.key] = value
            continue
        try:
            settings[setting.key] = setting.parse(value.strip())
        except ValueError as exc:
            raise SettingsError(f"{setting.key}: {exc} (got {value!r} from {source})") from None
    _checked(settings)
    return settings
