"""The sample plugin: notes on events, at GET /v1/events/{id}/sample-notes."""

from pyramid.events import NewResponse

from openevent.api.contexts import EventContext
from openevent.api.errors import NotFound
from openevent.api.openapi import describe
from openevent.plugins import is_enabled_for_event
from openevent.security import Permission
from openevent_sample_plugin import lifecycle, settings
from openevent_sample_plugin.models import SampleNote

requires_openevent = ">=0.1,<1"
description = "Private notes for an event's team"
migrations = "migrations"  # relative to this package
# Per-event: the settings organizers change through the API, and the hooks run when they turn
# the plugin on or off for an event.
event_settings = settings.event_settings
on_enabled = lifecycle.on_enabled
on_disabled = lifecycle.on_disabled

HEADER = "X-Openevent-Sample"


def list_notes(context, request):
    event = context.event
    if not is_enabled_for_event(request.dbsession, "sample", event.id):
        raise NotFound("the sample plugin is turned off for this event")
    notes = request.dbsession.query(SampleNote).filter_by(event_id=event.id).order_by(SampleNote.id)
    return {
        "data": [
            {"type": "sample-note", "id": str(n.id), "attributes": {"text": n.text}} for n in notes
        ]
    }


def mark_response(event):
    event.response.headers[HEADER] = "1"


def includeme(config):
    config.add_route("sample.notes", "/events/{id}/sample-notes", factory=EventContext)
    config.add_view(
        describe(list_notes, "custom", summary="List the event's notes (sample plugin)"),
        route_name="sample.notes",
        request_method="GET",
        permission=Permission.VIEW_TEAM,
        renderer="jsonapi",
    )
    config.add_subscriber(mark_response, NewResponse)
