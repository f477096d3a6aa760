"""``openevent worker``: run job workers built from the app's ini file."""

import logging
import multiprocessing
import signal
import threading

from openevent.cli.common import add_config_argument, load_config
from openevent.config import configure
from openevent.jobs import run_worker

log = logging.getLogger(__name__)


def register(commands) -> None:
    worker = commands.add_parser(
        "worker",
        help="run job workers",
        description="Process jobs from the broker named by openevent.broker_url, and relay "
        "outbox messages not yet sent. SIGTERM or SIGINT (Ctrl-C) stops taking new jobs, "
        "finishes the ones in progress, then exits.",
    )
    add_config_argument(worker)
    worker.add_argument(
        "--processes", type=_positive, default=1, metavar="N", help="worker processes (default 1)"
    )
    worker.add_argument(
        "--threads",
        type=_positive,
        default=8,
        metavar="M",
        help="worker threads per process (default 8)",
    )
    worker.add_argument(
        "--queues", nargs="+", metavar="QUEUE", help="only these queues (default: all)"
    )
    worker.set_defaults(handler=_worker)


def _positive(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError(value)
    return number


def serve(config_uri: str, threads: int, queues: list[str] | None) -> None:
    """One worker process: build the app, work until SIGTERM or SIGINT."""
    registry = configure(load_config(config_uri)).registry
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, frame: stop.set())
    run_worker(registry, stop, threads=threads, queues=queues)


def _worker(args):
    if args.processes == 1:
        serve(args.config_uri, args.threads, args.queues)
        return 0
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(
            target=serve, args=(args.config_uri, args.threads, args.queues), name=f"worker-{i}"
        )
        for i in range(args.processes)
    ]
    for child in children:
        child.start()

    def _forward(signum, frame):
        for child in children:
            if child.is_alive():
                child.terminate()  # SIGTERM: each child finishes its jobs in progress

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _forward)
    for child in children:
        child.join()
    return max((child.exitcode or 0) for child in children)
