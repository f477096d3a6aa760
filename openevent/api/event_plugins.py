"""/v1/events/{id}/plugins: which active plugins act for an event, and turning them on or off.

Every active plugin is enabled for every event until the event's organizers turn it off here.
The document is a collection of ``event-plugin`` resource objects whose id is the plugin's name.
"""

from openevent.api.contexts import EventContext
from openevent.api.documents import read_json
from openevent.api.errors import JSONAPI, BadRequest, Conflict, Unprocessable, ValidationFailed
from openevent.api.openapi import describe
from openevent.models import EventPlugin
from openevent.plugins import PLUGINS_KEY, PluginInfo, PluginState, is_enabled_for_event
from openevent.security import Permission

TYPE = "event-plugin"


def _active_plugins(request) -> list[PluginInfo]:
    plugins = request.registry.get(PLUGINS_KEY, {}).values()
    return sorted((p for p in plugins if p.state is PluginState.ACTIVE), key=lambda p: p.name)


def _document(request, event_id: int) -> dict:
    data = [
        {
            "type": TYPE,
            "id": plugin.name,
            "attributes": {
                "name": plugin.name,
                "version": plugin.version,
                "description": plugin.description,
                "enabled": is_enabled_for_event(request.dbsession, plugin.name, event_id),
            },
        }
        for plugin in _active_plugins(request)
    ]
    return {"data": data, "jsonapi": JSONAPI}


def list_event_plugins(context, request):
    """Every active plugin, and whether it acts for this event."""
    return _document(request, context.event.id)


def _read_changes(request) -> dict[str, bool]:
    """plugin name -> enabled, from a document whose data lists event-plugin objects."""
    document = read_json(request)
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise BadRequest("the body must be a JSON:API document with a data array", pointer="/data")
    known = {plugin.name for plugin in _active_plugins(request)}
    changes: dict[str, bool] = {}
    errors: list[Unprocessable] = []
    for index, item in enumerate(document["data"]):
        pointer = f"/data/{index}"
        if not isinstance(item, dict):
            raise BadRequest("each item of data must be a resource object", pointer=pointer)
        if item.get("type") != TYPE:
            raise Conflict(f"data items must be of type {TYPE!r}", pointer=f"{pointer}/type")
        attributes = item.get("attributes", {})
        if not isinstance(attributes, dict):
            raise BadRequest("attributes must be an object", pointer=f"{pointer}/attributes")
        name, enabled = item.get("id"), attributes.get("enabled")
        if not isinstance(name, str) or name not in known:
            errors.append(
                Unprocessable(f"no active plugin named {name!r}", pointer=f"{pointer}/id")
            )
        elif not isinstance(enabled, bool):
            errors.append(
                Unprocessable(
                    "enabled must be true or false", pointer=f"{pointer}/attributes/enabled"
                )
            )
        else:
            changes[name] = enabled
    if errors:
        raise ValidationFailed(errors)
    return changes


def update_event_plugins(context, request):
    """Turn plugins on or off for this event; plugins not listed keep their setting."""
    event_id = context.event.id
    dbsession = request.dbsession
    for name, enabled in _read_changes(request).items():
        # An explicit row even for "on": the organizers' choice outlives any change of default.
        row = dbsession.get(EventPlugin, (event_id, name))
        if row is None:
            dbsession.add(EventPlugin(event_id=event_id, plugin=name, enabled=enabled))
        else:
            row.enabled = enabled
    dbsession.flush()
    return _document(request, event_id)


_ITEM_SCHEMA = {
    "type": "object",
    "required": ["type", "id"],
    "properties": {
        "type": {"const": TYPE},
        "id": {"type": "string", "description": "the plugin's name"},
        "attributes": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "readOnly": True},
                "version": {"type": "string", "readOnly": True},
                "description": {"type": "string", "readOnly": True},
                "enabled": {"type": "boolean"},
            },
        },
    },
}
_COLLECTION_SCHEMA = {
    "type": "object",
    "required": ["data"],
    "properties": {"data": {"type": "array", "items": _ITEM_SCHEMA}, "jsonapi": {"type": "object"}},
}

describe(
    list_event_plugins,
    "custom",
    summary="List the active plugins and whether each acts for this event",
    response_schema=_COLLECTION_SCHEMA,
)
describe(
    update_event_plugins,
    "custom",
    summary="Turn plugins on or off for this event (unlisted plugins keep their setting)",
    request_schema=_COLLECTION_SCHEMA,
    response_schema=_COLLECTION_SCHEMA,
)


def includeme(config):
    config.add_route("event.plugins", "/events/{id}/plugins", factory=EventContext)
    config.add_view(
        list_event_plugins,
        route_name="event.plugins",
        request_method="GET",
        permission=Permission.VIEW_TEAM,
        renderer="jsonapi",
    )
    config.add_view(
        update_event_plugins,
        route_name="event.plugins",
        request_method="PATCH",
        permission=Permission.EDIT,
        renderer="jsonapi",
    )
