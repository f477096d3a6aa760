"""A job for tests/jobs/test_killed_worker.py, importable by an ``openevent worker`` subprocess.

The worker's ini lists this module in ``pyramid.includes`` (with tests/jobs on PYTHONPATH), so
the job is defined, and its queue consumed, in the worker process too.
"""

import json
import os
import signal
import time
from pathlib import Path

from dramatiq.middleware import CurrentMessage

from openevent.jobs import job
from openevent.models import Event

QUEUE = "killed-worker-test"
DONE_SUFFIX = " (done)"


@job(queue_name=QUEUE)
def hold_then_finish(context, event_id, folder):
    """Note the delivery, wait while ``folder/hold`` exists, then mark the event done, once."""
    folder = Path(folder)
    message = CurrentMessage.get_current_message()
    delivery = {
        "pid": os.getpid(),
        "message_id": context.message_id,
        "retries": message.options.get("retries", 0),
        "at_ms": int(time.time() * 1000),  # the clock Dramatiq's Redis heartbeats use
    }
    with (folder / "started").open("a") as started:
        started.write(json.dumps(delivery) + "\n")
    deadline = time.monotonic() + 60
    while (folder / "hold").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    event = context.dbsession.get(Event, event_id)
    if event is None or event.name.endswith(DONE_SUFFIX):
        return  # gone, or done by an earlier delivery
    event.name += DONE_SUFFIX
    with (folder / "finished").open("a") as finished:
        finished.write(json.dumps(delivery) + "\n")


@job(queue_name=QUEUE, max_retries=1)
def kill_my_worker(context, folder):
    """Note the delivery, then SIGKILL the worker running it: every time, as an OOM kill would."""
    message = CurrentMessage.get_current_message()
    delivery = {
        "pid": os.getpid(),
        "message_id": context.message_id,
        "retries": message.options.get("retries", 0),
    }
    with (Path(folder) / "started").open("a") as started:
        started.write(json.dumps(delivery) + "\n")
    os.kill(os.getpid(), signal.SIGKILL)


def includeme(config):
    """Nothing to configure: importing the module defines the job."""
