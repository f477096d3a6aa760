"""GET /v1/events/{id}/versions: the event's counters, with an ETag for cheap polling.

The route is the plugin's, so it answers 404 by itself for events the plugin is turned off for.
"""

from pyramid.httpexceptions import HTTPNotModified

from openevent.api.plugin import JSONAPI, EventContext, Permission, describe
from openevent_versions.counters import event_counters
from openevent_versions.models import COLLECTIONS

TYPE = "event-versions"

_DOCUMENT_SCHEMA = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "type": "object",
            "properties": {
                "type": {"const": TYPE},
                "id": {"type": "string", "description": "the event's id"},
                "attributes": {
                    "type": "object",
                    "properties": {name: {"type": "integer", "minimum": 0} for name in COLLECTIONS},
                },
            },
        }
    },
}


def _etag(counters: dict[str, int]) -> str:
    # The counters themselves: equal counters are the same document, byte for byte.
    return "v" + "-".join(str(counters[name]) for name in COLLECTIONS)


def event_versions(context, request):
    """The event's version counters; 304 when If-None-Match holds the current ETag."""
    event = context.event
    # Never None here: the route answers 404 by itself when the plugin is off for the event.
    counters = event_counters(request.dbsession, event.id)
    etag = _etag(counters)
    if etag in request.if_none_match:
        return HTTPNotModified(etag=etag, cache_control="no-cache")
    # Clients may keep the document but must ask again (cheaply, with If-None-Match) each time.
    request.response.etag = etag
    request.response.cache_control = "no-cache"
    return {"data": {"type": TYPE, "id": str(event.id), "attributes": counters}, "jsonapi": JSONAPI}


describe(
    event_versions,
    "custom",
    summary="The event's version counters (ETag; If-None-Match answers 304)",
    response_schema=_DOCUMENT_SCHEMA,
    parameters=({"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},),
    responses={"304": "Not modified: If-None-Match holds the current ETag"},
)


def includeme(config):
    config.add_route("versions.event", "/events/{id}/versions", factory=EventContext)
    config.add_view(
        event_versions,
        route_name="versions.event",
        request_method="GET",
        permission=Permission.VIEW,  # public for published events; drafts are 404 to outsiders
        renderer="jsonapi",
    )
