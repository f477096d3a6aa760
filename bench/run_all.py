"""Run every benchmark under bench/ and print one table of figures, floors and ratios.

    .venv/bin/python bench/run_all.py [--only api jobs] [--skip concurrency]
    make bench                                   # the same

Each ``bench/*.py`` but this file and helpers (``_*.py``) runs in a process of its own, with
this environment: the benchmarks take their PostgreSQL server from OPENEVENT_TEST_DATABASE_URL
and their Redis from OPENEVENT_TEST_REDIS_URL when set (else a SQLite file and, for jobs,
Dramatiq's in-memory broker). Every line a benchmark prints that starts with ``BENCH `` and a
JSON object is one row of the table (see bench/README.md and bench/_common.py); anything else
it prints is shown only when it fails or prints no such line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFIX = "BENCH "
# Benchmarks that take minutes or measure something else than a figure against a floor run
# only when named with --only.
SLOW = {"concurrency"}


def benchmarks() -> list[str]:
    return sorted(
        path.stem
        for path in HERE.glob("*.py")
        if path.name != "run_all.py" and not path.name.startswith("_")
    )


def run(name: str) -> tuple[list[dict], str, int, float]:
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, str(HERE / f"{name}.py")],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
    )
    records = [
        json.loads(line[len(PREFIX) :])
        for line in process.stdout.splitlines()
        if line.startswith(PREFIX)
    ]
    return records, process.stdout + process.stderr, process.returncode, time.monotonic() - started


def _number(value) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if abs(value) < 10_000 else f"{value:,.0f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run these benchmarks (names without .py)")
    parser.add_argument("--skip", nargs="*", default=[], help="do not run these")
    args = parser.parse_args(argv)
    names = args.only or [n for n in benchmarks() if n not in SLOW]
    names = [n for n in names if n not in args.skip]
    rows, failed = [], False
    for name in names:
        print(f"running bench/{name}.py ...", file=sys.stderr, flush=True)
        records, output, code, seconds = run(name)
        if code != 0 or not records:
            failed = True
            print(f"bench/{name}.py exited {code} with no figure:\n{output[-3000:]}")
        rows.extend(records)
        print(f"  {len(records)} figure(s) in {seconds:.0f} s", file=sys.stderr, flush=True)
    header = ("figure", "database", "unit", "app", "floor", "ratio", "goal", "ok")
    table = [
        (
            r["name"],
            r.get("database", ""),
            r["unit"],
            _number(r["app"]),
            _number(r["floor"]),
            f"{r['ratio']:.2f}x",
            "-" if r.get("goal") is None else f"<= {r['goal']:.2f}x",
            {True: "yes", False: "NO", None: "-"}[r.get("ok")],
        )
        for r in rows
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *table, strict=True)]
    for line in (header, *table):
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    print(
        "ratio: app/floor for times, floor/app for rates (how many times the floor's cost the"
        " app takes); goal: the largest ratio allowed"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
