"""The sample plugin: the one openevent's own tests load, and the tutorial's working example.

- ``/v1/events/{id}/sample-notes``: notes the event's team reads and writes;
- ``/v1/events/{id}/session-title-changes``: a log of session title changes, read by the
  event's owners and organizers, written by a job that a change subscriber starts;
- ``PUT /v1/events/{id}/sample-agenda``: a PDF of up to 4 MiB, a route with a body limit of
  its own.
"""

from pyramid.events import NewResponse

# Importing these registers the tables on openevent's Base, the resources and the job.
from openevent_sample_plugin import jobs, lifecycle, models, resources, settings  # noqa: F401

requires_openevent = ">=0.1,<1"
description = "Private notes for an event's team"
migrations = "migrations"  # relative to this package
# Per-event: the settings organizers change through the API, and the hooks run when they turn
# the plugin on or off for an event.
event_settings = settings.event_settings
on_enabled = lifecycle.on_enabled
on_disabled = lifecycle.on_disabled

HEADER = "X-Openevent-Sample"


def mark_response(event):
    event.response.headers[HEADER] = "1"


def includeme(config):
    config.include(".resources")
    config.include(".subscribers")
    config.include(".uploads")
    config.add_subscriber(mark_response, NewResponse)
