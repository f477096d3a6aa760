"""What the benchmarks share: where they run, how they alternate, and the line they report.

Every benchmark measures the app and its floor (the least the same work costs: plain SQL, plain
Dramatiq, plain inserts) in alternating batches of one run, so that both see the same machine
(another process's burst slows both, not one), and prints, besides its own report, one line per
figure for ``bench/run_all.py``::

    BENCH {"name": "...", "unit": "ms", "app": 12.3, "floor": 8.1, "ratio": 1.52, ...}

See bench/README.md.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable

DATABASE_ENV = "OPENEVENT_TEST_DATABASE_URL"
REDIS_ENV = "OPENEVENT_TEST_REDIS_URL"


def default_database_url() -> str | None:
    """The PostgreSQL server of the test suite, if set; None means a SQLite file."""
    return os.environ.get(DATABASE_ENV) or None


def default_redis_url() -> str | None:
    return os.environ.get(REDIS_ENV) or None


def plain_engine(url: str, **options):
    """A plain SQLAlchemy engine on ``url`` (a URL as the app's settings give it), for a floor:
    no listeners, no pre-ping; ``options`` as for ``create_engine``.

    On SQLite its transactions really begin (``BEGIN``), as the app's do and as SQLAlchemy's
    documentation shows for pysqlite, whose default runs reads outside any transaction (it
    begins one only before a write): a floor reads one consistent snapshot, as the app does.
    """
    from sqlalchemy import create_engine, event

    from openevent.db.session import database_url

    engine = create_engine(database_url(url), **options)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_connection, connection_record):
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection):
            connection.exec_driver_sql("BEGIN")

    return engine


def interleaved(
    app: Callable[[], object],
    floor: Callable[[], object],
    *,
    seconds: float,
    batch: int = 5,
    warmup: int = 3,
) -> tuple[list[float], list[float]]:
    """Time ``app()`` and ``floor()`` in alternating batches of ``batch`` calls each for about
    ``seconds`` in all; return the durations of each call (seconds), app's then floor's."""
    for _ in range(warmup):
        app()
        floor()
    app_times: list[float] = []
    floor_times: list[float] = []
    deadline = time.perf_counter() + seconds
    turn = 0
    while time.perf_counter() < deadline or not (app_times and floor_times):
        fn, times = (app, app_times) if turn % 2 == 0 else (floor, floor_times)
        for _ in range(batch):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        turn += 1
    return app_times, floor_times


def emit(
    name: str,
    *,
    unit: str,
    app: float,
    floor: float,
    goal: float | None = None,
    higher_is_better: bool = False,
    database: str = "",
    **extra,
) -> float:
    """Print the machine-readable line of one figure and return its ratio.

    ``ratio`` is how far the app is from its floor, always at least 1 for an app slower than
    its floor: app/floor for times, floor/app for rates (``higher_is_better``). ``goal`` is the
    largest ratio the figure may have (1.5 for "within 1.5x"; 1/0.7 for "70% of the floor").
    """
    ratio = floor / app if higher_is_better else app / floor
    record = {
        "name": name,
        "database": database,
        "unit": unit,
        "app": round(app, 3),
        "floor": round(floor, 3),
        "ratio": round(ratio, 3),
        "goal": None if goal is None else round(goal, 3),
        "ok": None if goal is None else ratio <= goal,
        **extra,
    }
    print("BENCH " + json.dumps(record), flush=True)
    return ratio


def median(values: list[float]) -> float:
    return statistics.median(values)
