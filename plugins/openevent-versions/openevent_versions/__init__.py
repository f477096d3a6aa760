"""Per-event version counters: GET /v1/events/{id}/versions tells offline clients what changed.

Each event has six counters (``event``, ``sessions``, ``speakers``, ``tickets``, ``tracks``,
``microlocations``). A committed transaction that changes rows of a collection raises that
collection's counter by one (see :mod:`openevent_versions.subscribers`), in a job.
"""

# Importing these registers the table on openevent's Base and the job with the broker.
from openevent_versions import jobs, lifecycle, models  # noqa: F401

# The counters of an event, for other plugins (the public Python API of this one).
from openevent_versions.counters import event_counters

__all__ = ["event_counters"]

requires_openevent = ">=0.1,<0.2"
description = "Version counters per event, so offline clients refetch only what changed"
migrations = "migrations"  # relative to this package
# Run when an event's organizers turn the plugin back on: every counter goes up by one.
on_enabled = lifecycle.on_enabled


def includeme(config):
    config.include(".subscribers")
    config.include(".views")
