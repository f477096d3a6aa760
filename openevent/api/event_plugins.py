"""/v1/events/{id}/plugins: which active plugins act for an event, and with which settings.

Each active plugin is an ``event-plugin`` resource object whose id is the plugin's name:

- ``name``, ``version``, ``description``, ``enabled-by-default``: read-only;
- ``enabled``: whether it acts for the event (the organizers' choice, else its default);
- ``settings``: ``{name: value}`` for every setting the plugin declares (``event_settings``),
  the organizers' value or else the default, times in the event's timezone.

``GET /v1/events/{id}/plugins`` lists them all (the event's team), ``PATCH`` changes several at
once (organizers); ``GET|PATCH /v1/events/{id}/plugins/{name}`` does the same for one. A PATCH
sets what it names and keeps the rest: ``settings`` it omits keep their value. Every invalid
value is reported at once (422, one pointer each) and nothing is written. Settings are written
before the switch, so an ``on_enabled`` hook reads the settings sent with it.
"""

from functools import wraps

from openevent.api.contexts import EventContext
from openevent.api.documents import read_json, read_resource_object
from openevent.api.errors import (
    JSONAPI,
    BadRequest,
    Conflict,
    NotFound,
    Unprocessable,
    ValidationFailed,
)
from openevent.api.fields import FieldContext, Invalid
from openevent.api.openapi import describe
from openevent.plugins import (
    PLUGINS_KEY,
    PluginInfo,
    PluginState,
    change_settings_for_event,
    is_enabled_for_event,
    set_enabled_for_event,
    settings_for_event,
)
from openevent.security import Permission

TYPE = "event-plugin"
_READ_ONLY = ("name", "version", "description", "enabled-by-default")


def _active_plugins(registry) -> list[PluginInfo]:
    plugins = registry.get(PLUGINS_KEY, {}).values()
    return sorted((p for p in plugins if p.state is PluginState.ACTIVE), key=lambda p: p.name)


def _resource_object(request, plugin: PluginInfo, event) -> dict:
    ctx = FieldContext(tz=event.tzinfo)
    values = settings_for_event(request.dbsession, plugin.name, event.id)
    return {
        "type": TYPE,
        "id": plugin.name,
        "attributes": {
            "name": plugin.name,
            "version": plugin.version,
            "description": plugin.description,
            "enabled": is_enabled_for_event(request.dbsession, plugin.name, event.id),
            "enabled-by-default": plugin.enabled_by_default,
            "settings": {
                name: setting.render(values[name], ctx)
                for name, setting in plugin.event_settings.items()
            },
        },
        "links": {"self": request.route_path("event.plugin", id=event.id, name=plugin.name)},
    }


def _pointer_token(name: str) -> str:
    """``name`` as one reference token of a JSON pointer (RFC 6901)."""
    return name.replace("~", "~0").replace("/", "~1")


class _Change:
    """What one resource object of a PATCH asks for one plugin, checked."""

    def __init__(self, plugin: PluginInfo, data: dict, pointer: str, ctx: FieldContext):
        self.plugin = plugin
        self.enabled: bool | None = None
        self.settings: dict = {}
        self.errors: list[Unprocessable] = []
        attributes = data.get("attributes", {})
        if not isinstance(attributes, dict):
            raise BadRequest("attributes must be an object", pointer=f"{pointer}/attributes")
        for name, raw in attributes.items():
            at = f"{pointer}/attributes/{_pointer_token(name)}"
            if name == "enabled":
                if isinstance(raw, bool):
                    self.enabled = raw
                else:
                    self.errors.append(Unprocessable("enabled must be true or false", pointer=at))
            elif name == "settings":
                self._read_settings(raw, at, ctx)
            elif name in _READ_ONLY:
                self.errors.append(Unprocessable(f"{name} is read-only", pointer=at))
            else:
                self.errors.append(Unprocessable(f"{TYPE} has no attribute {name!r}", pointer=at))

    def _read_settings(self, raw, pointer: str, ctx: FieldContext) -> None:
        if not isinstance(raw, dict):
            self.errors.append(
                Unprocessable(
                    "settings must be an object of setting names to values", pointer=pointer
                )
            )
            return
        declared = self.plugin.event_settings
        for name, value in raw.items():
            at = f"{pointer}/{_pointer_token(name)}"
            setting = declared.get(name)
            if setting is None:
                known = ", ".join(declared) or "none"
                self.errors.append(
                    Unprocessable(
                        f"{self.plugin.name} has no setting {name!r} (its settings: {known})",
                        pointer=at,
                    )
                )
                continue
            try:
                self.settings[name] = setting.parse(value, ctx)
            except Invalid as exc:
                self.errors.append(Unprocessable(f"{name} {exc}", pointer=at))

    def apply(self, request, event_id: int) -> None:
        if self.settings:
            change_settings_for_event(request.dbsession, self.plugin.name, event_id, self.settings)
        if self.enabled is not None:
            set_enabled_for_event(
                request.dbsession,
                self.plugin.name,
                event_id,
                self.enabled,
                user_id=request.authenticated_userid,
            )


def _apply(request, changes: list[_Change], errors: list[Unprocessable]) -> None:
    """Apply ``changes`` unless there is any error: then answer 422 with all of them."""
    if errors:
        raise ValidationFailed(errors)
    for change in changes:
        change.apply(request, request.context.event.id)


def _plugin_named(request) -> PluginInfo:
    name = request.matchdict["name"]
    for plugin in _active_plugins(request.registry):
        if plugin.name == name:
            return plugin
    raise NotFound(f"no active plugin named {name!r}")


# Views


def list_event_plugins(context, request):
    """Every active plugin, whether it acts for this event, and its settings here."""
    data = [_resource_object(request, p, context.event) for p in _active_plugins(request.registry)]
    return {"data": data, "links": {"self": request.path}, "jsonapi": JSONAPI}


def update_event_plugins(context, request):
    """Turn plugins on or off and change their settings; what is not listed stays as it is."""
    document = read_json(request)
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise BadRequest("the body must be a JSON:API document with a data array", pointer="/data")
    active = {plugin.name: plugin for plugin in _active_plugins(request.registry)}
    ctx = FieldContext(tz=context.event.tzinfo)
    changes: list[_Change] = []
    errors: list[Unprocessable] = []
    for index, item in enumerate(document["data"]):
        pointer = f"/data/{index}"
        if not isinstance(item, dict):
            raise BadRequest("each item of data must be a resource object", pointer=pointer)
        if item.get("type") != TYPE:
            raise Conflict(f"data items must be of type {TYPE!r}", pointer=f"{pointer}/type")
        name = item.get("id")
        if not isinstance(name, str) or name not in active:
            errors.append(
                Unprocessable(f"no active plugin named {name!r}", pointer=f"{pointer}/id")
            )
            continue
        changes.append(_Change(active[name], item, pointer, ctx))
        errors += changes[-1].errors
    _apply(request, changes, errors)
    return list_event_plugins(context, request)


def event_plugin(context, request):
    """One active plugin: whether it acts for this event, and its settings here."""
    return {
        "data": _resource_object(request, _plugin_named(request), context.event),
        "jsonapi": JSONAPI,
    }


def update_event_plugin(context, request):
    """Turn one plugin on or off, and change some of its settings, for this event."""
    plugin = _plugin_named(request)
    data = read_resource_object(request, TYPE, with_id=plugin.name)
    change = _Change(plugin, data, "/data", FieldContext(tz=context.event.tzinfo))
    _apply(request, [change], change.errors)
    return event_plugin(context, request)


# OpenAPI: the schemas depend on the plugins an app loads, known only once .plugins (included
# after the API) has run; so each app gets views of its own, described when it commits.


def _item_schema(plugin: PluginInfo | None) -> dict:
    """The resource object of ``plugin`` (or of any plugin, for None)."""
    read_only_string = {"type": "string", "readOnly": True}
    settings = {"type": "object", "description": "setting name -> value; PATCH sets those given"}
    if plugin is not None:
        settings["properties"] = {n: s.schema() for n, s in plugin.event_settings.items()}
        settings["additionalProperties"] = False
    return {
        "type": "object",
        "required": ["type", "id"],
        "properties": {
            "type": {"const": TYPE},
            "id": {"const": plugin.name} if plugin else {"type": "string"},
            "attributes": {
                "type": "object",
                "properties": {
                    "name": read_only_string,
                    "version": read_only_string,
                    "description": read_only_string,
                    "enabled-by-default": {"type": "boolean", "readOnly": True},
                    "enabled": {"type": "boolean"},
                    "settings": settings,
                },
            },
            "links": {"type": "object", "readOnly": True},
        },
        **({"description": plugin.description} if plugin and plugin.description else {}),
    }


def _describe(views: dict, registry) -> None:
    items = [_item_schema(plugin) for plugin in _active_plugins(registry)]
    item = {"oneOf": items} if items else _item_schema(None)
    collection = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {"type": "array", "items": item},
            "links": {"type": "object"},
            "jsonapi": {"type": "object"},
        },
    }
    document = {
        "type": "object",
        "required": ["data"],
        "properties": {"data": item, "jsonapi": {"type": "object"}},
    }
    details = {
        list_event_plugins: {
            "summary": "List the active plugins: whether each acts for this event, its settings",
            "response_schema": collection,
        },
        update_event_plugins: {
            "summary": "Turn plugins on or off and change their settings for this event",
            "request_schema": collection,
            "response_schema": collection,
        },
        event_plugin: {
            "summary": "One plugin: whether it acts for this event, and its settings",
            "response_schema": document,
        },
        update_event_plugin: {
            "summary": "Turn one plugin on or off and change its settings for this event",
            "request_schema": document,
            "response_schema": document,
        },
    }
    for view, app_view in views.items():
        describe(app_view, "custom", **details[view])


def _for_this_app(view):
    @wraps(view)
    def app_view(context, request):
        return view(context, request)

    return app_view


def includeme(config):
    config.add_route("event.plugins", "/events/{id}/plugins", factory=EventContext)
    config.add_route("event.plugin", "/events/{id}/plugins/{name}", factory=EventContext)
    views = {}
    for view, route, method, permission in (
        (list_event_plugins, "event.plugins", "GET", Permission.VIEW_TEAM),
        (update_event_plugins, "event.plugins", "PATCH", Permission.EDIT),
        (event_plugin, "event.plugin", "GET", Permission.VIEW_TEAM),
        (update_event_plugin, "event.plugin", "PATCH", Permission.EDIT),
    ):
        views[view] = _for_this_app(view)
        config.add_view(
            views[view],
            route_name=route,
            request_method=method,
            permission=permission,
            renderer="jsonapi",
        )
    config.action(None, lambda: _describe(views, config.registry))
