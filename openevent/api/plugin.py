"""The API machinery plugins build on: resources, fields, event-scoped routes, lists, OpenAPI.

A plugin imports what it needs from this module, and only from it: the names in ``__all__``
are openevent's promise to plugin authors, kept within a release series (the range a plugin
states in ``requires_openevent``). The modules they come from are openevent's own and may
change. docs/plugins.md shows them at work in a whole plugin.

- Declare a resource: :class:`Resource` (type, model, path, fields, relationships), with
  :class:`Relationship`, and make it known with :func:`register` (includes, fieldsets and the
  OpenAPI document find it by its type); :func:`registered` finds one by its type (the
  core's ``session`` and what the public may see of it, for a plugin that shows sessions).
- Its attributes: :class:`Field` and its kinds (:class:`String`, :class:`Text`,
  :class:`Html`, :class:`Email`, :class:`Url`, :class:`Color`, :class:`Integer`,
  :class:`Number`, :class:`Duration`, :class:`Money`, :class:`Boolean`, :class:`Choice`,
  :class:`DateTime`, :class:`Computed`, :class:`RestoreOnly` for ``deleted-at``), which
  parse, render (times in the event's timezone), filter, sort and describe themselves.
- Its routes: :func:`add_event_scoped_resource` gives a resource of an event's rows the
  core's collection and item routes, read-only or writable, readable by the public or by the
  team (a permission of the plugin's own included), with :class:`Hooks` around the writes.
- Routes of its own: :class:`EventContext` and :class:`TeamEventContext` (route factories of
  ``/events/{id}/...``), :func:`row_context`, :func:`require` and :func:`is_team`;
  :func:`parse_list_params`, :func:`render_list`, :func:`parse_document_params` and
  :func:`render_one` for documents like the core's; :func:`read_resource_object` for a
  request's resource object (media type, size, JSON, ``data``, its type and id checked);
  :func:`describe` for the OpenAPI document; the errors (:class:`APIError` and its kinds)
  for JSON:API error documents. A route that takes bodies over 1 MiB (an upload) declares
  its own limit with the config directive ``config.add_route_body_limit(route_name, max_bytes)``.
- :class:`Permission`: the core's permissions. A plugin defines its own with the config
  directive ``config.add_event_permission(name, roles=(...))``.

Routes a plugin's ``includeme`` adds answer 404 for events the plugin is turned off for, with
no code in their views (see :mod:`openevent.plugins`).
"""

from openevent.api.contexts import (
    EventContext,
    TeamEventContext,
    is_team,
    require,
    row_context,
)
from openevent.api.crud import Hooks, add_event_scoped_resource
from openevent.api.documents import read_resource_object
from openevent.api.errors import (
    JSONAPI,
    APIError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
    ValidationFailed,
)
from openevent.api.events import RestoreOnly
from openevent.api.fields import (
    Boolean,
    Choice,
    Color,
    Computed,
    DateTime,
    Duration,
    Email,
    Field,
    FieldContext,
    Html,
    Integer,
    Invalid,
    Money,
    Number,
    String,
    Text,
    Url,
)
from openevent.api.openapi import describe
from openevent.api.query import (
    ListQuery,
    parse_document_params,
    parse_list_params,
    render_list,
    render_one,
)
from openevent.api.resources import Relationship, Resource, register, registered
from openevent.security import Permission

__all__ = [
    "JSONAPI",
    "APIError",
    "BadRequest",
    "Boolean",
    "Choice",
    "Color",
    "Computed",
    "Conflict",
    "DateTime",
    "Duration",
    "Email",
    "EventContext",
    "Field",
    "FieldContext",
    "Forbidden",
    "Hooks",
    "Html",
    "Integer",
    "Invalid",
    "ListQuery",
    "Money",
    "NotFound",
    "Number",
    "PayloadTooLarge",
    "Permission",
    "Relationship",
    "Resource",
    "RestoreOnly",
    "String",
    "TeamEventContext",
    "Text",
    "Unauthorized",
    "Unprocessable",
    "UnsupportedMediaType",
    "Url",
    "ValidationFailed",
    "add_event_scoped_resource",
    "describe",
    "is_team",
    "parse_document_params",
    "parse_list_params",
    "read_resource_object",
    "register",
    "registered",
    "render_list",
    "render_one",
    "require",
    "row_context",
]
