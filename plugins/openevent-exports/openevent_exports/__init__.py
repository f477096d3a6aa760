"""Exports: an event's program as files, on demand and as always-fresh public feeds.

Formats (:mod:`openevent_exports.formats`): the Open Event zip, iCal, xCal, frab XML and JSON,
CSV. The event's team starts an export with ``POST /v1/events/{id}/exports`` and downloads it
when its job is done; ``/v1/events/{id}/schedule.ics`` (``.xcal``, ``.xml``, ``.json``) serve
the public program, rebuilt by a job after every committed change. ``openevent export``
writes an export from the command line. See docs/exports.md.
"""

# Importing these registers the tables on openevent's Base and the jobs with the broker.
from openevent_exports import jobs, models  # noqa: F401
from openevent_exports.settings import SETTINGS_KEY, read_settings

requires_openevent = ">=0.1,<0.2"
description = "Exports (Open Event zip, iCal, xCal, frab, CSV) and always-fresh schedule feeds"
migrations = "migrations"  # relative to this package


def includeme(config):
    config.registry[SETTINGS_KEY] = read_settings(config.get_settings())
    config.include(".feeds")
    config.include(".views")
