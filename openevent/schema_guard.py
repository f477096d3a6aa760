"""Never serve against a stale schema: is the database at the revisions this code expects?

At start-up the app reads the database's revisions (alembic's table) and compares them with the
heads of the migrations it ships (core and active plugins). When they differ it logs one warning
naming both and the command to run, or, with ``openevent.db.require_current_schema = true``,
refuses to start with that line.

Then, on every request under ``/v1``, a tween asks :class:`SchemaState` whether the database is
current. The answer costs a query only now and then:

- once the database was found at head, that answer is trusted for ``recheck_seconds`` (a few
  seconds: a deploy that downgrades under a running app is noticed that late), so a request
  normally pays one clock read and a comparison;
- while the database is behind, every API request re-reads the revisions (one indexed
  single-row SELECT), so the app serves again as soon as ``openevent db upgrade`` commits;
- a database error escaping a request (a missing table or column is a ProgrammingError on
  PostgreSQL, an OperationalError on SQLite) forces a re-check at once, so the request that ran
  into a schema changed under it answers 503 with the explanation instead of a 500.

Requests outside ``/v1`` are served as usual; ``/healthz`` reports the same state.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from pyramid.tweens import MAIN
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

from openevent.api.errors import APIError
from openevent.db.migrations import current_heads

log = logging.getLogger(__name__)

REQUIRE_SETTING = "openevent.db.require_current_schema"
RECHECK_SETTING = "openevent.db.schema_recheck_seconds"
CONFIG_FILE_SETTING = "openevent.config_file"
STATE_KEY = "schema_state"
API_PATH = re.compile(r"^/v1(/|$)")


class StaleSchemaError(RuntimeError):
    """Start-up refused: the database is not at the code's revisions."""


@dataclass(frozen=True)
class SchemaStatus:
    current: tuple[str, ...]
    expected: tuple[str, ...]
    command: str

    @property
    def at_head(self) -> bool:
        return self.current == self.expected

    def explanation(self) -> str:
        current = ", ".join(self.current) or "no revision (never migrated)"
        return (
            f"the database schema is at {current}, this code expects "
            f"{', '.join(self.expected)}; run `{self.command}`"
        )


class SchemaOutOfDate(APIError):
    status, code, title = 503, "schema-out-of-date", "Database schema out of date"

    def __init__(self, status: SchemaStatus):
        super().__init__(status.explanation(), headers={"Retry-After": "30"})
        self.schema = status

    def error_objects(self) -> list[dict]:
        [error] = super().error_objects()
        error["meta"] = {
            "current-revision": list(self.schema.current),
            "expected-revision": list(self.schema.expected),
            "command": self.schema.command,
        }
        return [error]


class SchemaState:
    """Whether the database is at ``expected``, re-read only when the last answer may be stale."""

    def __init__(self, engine, expected, command: str, recheck_seconds: float = 5.0, clock=None):
        self.engine = engine
        self.expected = tuple(expected)
        self.command = command
        self.recheck_seconds = recheck_seconds
        self.clock = clock or time.monotonic
        self._status: SchemaStatus | None = None
        self._checked_at = float("-inf")
        self.queries = 0  # how many times the revisions were read (for tests and benchmarks)

    def record(self, current) -> SchemaStatus:
        """Remember ``current`` as just read (``/healthz`` shares what it reads)."""
        status = SchemaStatus(tuple(current), self.expected, self.command)
        previous, self._status = self._status, status
        self._checked_at = self.clock()
        if previous is not None and previous.at_head != status.at_head:
            if status.at_head:
                log.warning("database schema now at %s: serving again", ", ".join(status.current))
            else:
                log.warning("serving 503 to API requests: %s", status.explanation())
        return status

    def refresh(self) -> SchemaStatus:
        self.queries += 1
        with self.engine.connect() as connection:
            return self.record(current_heads(connection))

    def status(self) -> SchemaStatus:
        """The current status, from memory while a recent check found the database at head."""
        status = self._status
        if (
            status is not None
            and status.at_head
            and self.clock() - self._checked_at < self.recheck_seconds
        ):
            return status
        return self.refresh()

    def invalidate(self) -> None:
        self._checked_at = float("-inf")


def schema_tween_factory(handler, registry):
    state: SchemaState = registry[STATE_KEY]

    def schema_tween(request):
        if not API_PATH.match(request.path_info):
            return handler(request)
        try:
            status = state.status()
        except SQLAlchemyError:
            # Unreachable: let the request run into it and answer as it would.
            return handler(request)
        if not status.at_head:
            raise SchemaOutOfDate(status)
        try:
            return handler(request)
        except (ProgrammingError, OperationalError) as exc:
            state.invalidate()
            try:
                status = state.status()
            except SQLAlchemyError:
                raise exc from None
            if not status.at_head:
                raise SchemaOutOfDate(status) from exc
            raise

    return schema_tween


def includeme(config):
    settings = config.get_settings()
    config_file = settings.get(CONFIG_FILE_SETTING) or "CONFIG.ini"
    state = SchemaState(
        config.registry["dbengine"],
        config.registry["expected_heads"],
        command=f"openevent db upgrade {config_file}",
        recheck_seconds=settings[RECHECK_SETTING],
    )
    config.registry[STATE_KEY] = state
    try:
        status = state.refresh()
    except SQLAlchemyError as exc:
        log.warning("could not read the database's schema revision at start-up: %s", exc)
    else:
        if not status.at_head:
            if settings[REQUIRE_SETTING]:
                raise StaleSchemaError(status.explanation())
            log.warning("API requests will answer 503 until migrated: %s", status.explanation())
    # Inside the exception view tween, so that SchemaOutOfDate becomes a JSON:API document.
    config.add_tween("openevent.schema_guard.schema_tween_factory", over=MAIN)
