"""``openevent jobs``: the outbox relay and the list of failed jobs."""

from sqlalchemy import select

from openevent.cli.common import add_config_argument, load_config
from openevent.config import configure
from openevent.db import transaction_scope
from openevent.jobs import declare_known_jobs, relay_outbox
from openevent.models import JobFailure


def register(commands) -> None:
    jobs = commands.add_parser(
        "jobs", help="job outbox and failed jobs", description="Inspect and nudge job delivery."
    )
    actions = jobs.add_subparsers(title="actions", metavar="ACTION", required=True)

    relay = actions.add_parser(
        "relay",
        help="send outbox messages not confirmed sent after the grace period (workers do "
        "this periodically)",
    )
    add_config_argument(relay)
    relay.set_defaults(handler=_relay)

    failed = actions.add_parser(
        "failed", help="list jobs that failed on their last retry, newest first"
    )
    add_config_argument(failed)
    failed.add_argument("--limit", type=int, default=50, metavar="N", help="at most N (default 50)")
    failed.set_defaults(handler=_failed)


def _relay(args):
    registry = configure(load_config(args.config_uri)).registry
    declare_known_jobs(registry)
    print(f"relayed {relay_outbox(registry)} message(s)")
    return 0


def _failed(args):
    registry = configure(load_config(args.config_uri)).registry
    with transaction_scope(registry) as dbsession:
        failures = dbsession.scalars(
            select(JobFailure).order_by(JobFailure.failed_at.desc()).limit(args.limit)
        ).all()
        rows = [
            (
                f"{failure.failed_at:%Y-%m-%d %H:%M:%S}",
                failure.message_id,
                failure.actor_name,
                failure.queue_name,
                str(failure.attempts),
                _one_line(failure.error),
            )
            for failure in failures
        ]
    if not rows:
        print("no failed jobs")
        return 0
    print(_table(("FAILED AT (UTC)", "MESSAGE ID", "JOB", "QUEUE", "ATTEMPTS", "ERROR"), rows))
    return 0


def _one_line(text: str, width: int = 80) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _table(header, rows) -> str:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    )
