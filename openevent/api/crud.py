"""The standard routes of a resource, written once.

:func:`add_event_scoped_resource` gives a resource that belongs to an event (sessions,
speakers, tickets, tracks, microlocations, and plugins' own) its routes:

- ``POST /v1/<plural>`` with ``relationships.event``;
- ``GET|PATCH|DELETE /v1/<plural>/{id}``, where DELETE moves the row to the trash when the
  model has ``deleted_at`` (``?permanent=true`` removes it), and a PATCH of ``deleted-at: null``
  restores it;
- ``GET /v1/events/{id}/<plural>``, with filters, sorting, pages, fields, includes, and
  ``filter[trashed]=only|with`` for the team.

A resource without a write permission is read-only: it gets the two GET routes alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from pyramid.httpexceptions import HTTPNoContent
from sqlalchemy import select, true

from openevent.api.contexts import (
    EventContext,
    TeamEventContext,
    is_team,
    load_event,
    reading,
    require,
    row_context,
)
from openevent.api.documents import read_resource_object
from openevent.api.errors import BadRequest, NotFound, Unprocessable, ValidationFailed
from openevent.api.fields import FieldContext, Invalid
from openevent.api.openapi import PERMANENT, describe
from openevent.api.query import parse_document_params, parse_list_params, render_list, render_one
from openevent.api.resources import Resource, _identifier_id
from openevent.db import utcnow
from openevent.plugins import require_route_enabled
from openevent.security import Permission


@dataclass
class Hooks:
    """Resource-specific behaviour around the standard handlers."""

    # (request, obj, data) before validation; may adjust or refuse.
    before_write: Callable | None = None
    # (request, obj, created: bool) after the row is written and flushed.
    after_write: Callable | None = None
    # (request, obj) before the row goes to the trash or is deleted.
    before_trash: Callable | None = None
    # (request, obj) after the row went to the trash or was deleted, and the change is flushed.
    after_trash: Callable | None = None
    # name -> (request, raw) -> SQL condition, for filter[name]=raw on the event's list.
    special_filters: dict[str, Callable] = field(default_factory=dict)


TRASHED = "filter[trashed]"


def trashed_condition(resource: Resource, raw: str | None, team: bool):
    """Rows in the trash are left out of lists, unless the team asks with filter[trashed]."""
    deleted_at = resource.model.deleted_at
    if raw is None or raw == "without":
        return deleted_at.is_(None)
    if raw not in ("only", "with"):
        raise BadRequest(f"{TRASHED} must be only, with or without", parameter=TRASHED)
    if not team:
        # 404, as for a row in the trash read by its URL: the trash is not there for anyone
        # else, and not even whether it holds anything leaks.
        raise NotFound("only the event's team sees its trash", parameter=TRASHED)
    return deleted_at.is_not(None) if raw == "only" else true()


def get_one(request, resource: Resource, obj, context):
    query = parse_document_params(request, resource)
    return render_one(request, resource, obj, query, team=is_team(request, context))


def write_one(
    request,
    resource: Resource,
    obj,
    data: dict,
    ctx: FieldContext,
    hooks: Hooks | None = None,
    *,
    creating: bool,
):
    if hooks and hooks.before_write:
        hooks.before_write(request, obj, data)
    resource.apply(request, obj, data, ctx, creating=creating)
    if creating:
        request.dbsession.add(obj)
    # Flush inside the view, so that a constraint violation becomes a 409 here instead of a
    # 500 at commit time.
    request.dbsession.flush()


def created(request, resource: Resource, obj, context):
    request.response.status_int = 201
    request.response.headers["Location"] = request.application_url + resource.link(obj)
    return render_one(request, resource, obj, team=is_team(request, context))


def add_event_scoped_resource(
    config,
    resource: Resource,
    plural: str,
    permission: str | None = None,
    hooks: Hooks | None = None,
    *,
    read_permission: str = Permission.VIEW,
) -> None:
    """Register the standard routes of ``resource`` (see the module docstring).

    ``permission`` is what creating, changing and deleting take; without one the resource is
    read-only. ``read_permission`` is what reading takes: ``event:view`` (the default) lets the
    public read the event's rows it may see (:meth:`Resource.public_clause`); any other makes
    the resource the team's, and everyone else gets 404 from its routes, as from a draft.
    Permissions may be the core's or a plugin's own (``config.add_event_permission``).
    """
    hooks = hooks or Hooks()
    trashable = hasattr(resource.model, "deleted_at")
    public = read_permission == Permission.VIEW
    context_factory = row_context(resource, public=public)
    event_context = EventContext if public else TeamEventContext

    def create_view(request):
        data = read_resource_object(request, resource.type)
        linkage = data.get("relationships", {}).get("event")
        if not isinstance(linkage, dict):
            raise ValidationFailed(
                [Unprocessable("event is required", pointer="/data/relationships/event")]
            )
        try:
            event_id = _identifier_id(linkage.get("data"), "event")
        except Invalid as exc:
            raise Unprocessable(f"event {exc}", pointer="/data/relationships/event/data") from None
        context = event_context(request, load_event(request, event_id))
        require(request, permission, context)
        require_route_enabled(request, context.event)
        if context.event.deleted_at is not None:
            raise Unprocessable("the event is in the trash", pointer="/data/relationships/event")
        data = {
            **data,
            "relationships": {
                k: v for k, v in data.get("relationships", {}).items() if k != "event"
            },
        }
        obj = resource.model(event=context.event)
        write_one(
            request, resource, obj, data, FieldContext(context.event.tzinfo), hooks, creating=True
        )
        return created(request, resource, obj, context)

    def read_view(context, request):
        return get_one(request, resource, context.row, context)

    def update_view(context, request):
        data = read_resource_object(request, resource.type, with_id=str(context.row.id))
        write_one(
            request,
            resource,
            context.row,
            data,
            FieldContext(context.event.tzinfo),
            hooks,
            creating=False,
        )
        return get_one(request, resource, context.row, context)

    def delete_view(context, request):
        permanent = request.GET.get("permanent", "false")
        if permanent not in ("true", "false"):
            raise BadRequest("permanent must be true or false", parameter="permanent")
        if set(request.GET) - {"permanent"}:
            raise BadRequest(
                "DELETE takes no query parameters but permanent", parameter="permanent"
            )
        if hooks.before_trash:
            hooks.before_trash(request, context.row)
        if permanent == "true" or not trashable:
            request.dbsession.delete(context.row)
        elif context.row.deleted_at is None:
            context.row.deleted_at = utcnow()
        request.dbsession.flush()
        return HTTPNoContent()

    def list_view(context, request):
        team = is_team(request, context)
        stmt = select(resource.model).where(resource.model.event_id == context.event.id)
        if not team:
            stmt = stmt.where(resource.public_clause())
        allowed = ()
        if trashable:
            allowed = (TRASHED,)
            stmt = stmt.where(trashed_condition(resource, request.GET.get(TRASHED), team))
        special = {name: partial(fn, request) for name, fn in hooks.special_filters.items()}
        ctx = FieldContext(context.event.tzinfo)
        query = parse_list_params(request, resource, ctx, special, allowed=allowed)
        return render_list(request, resource, stmt, query, team=team, event=context.event)

    name = resource.type
    describe(create_view, "create", name, summary=f"Create a {name} in an event")
    describe(read_view, "read", name, summary=f"Read a {name}")
    describe(update_view, "update", name, summary=f"Change a {name}; deleted-at: null restores it")
    describe(
        delete_view,
        "delete",
        name,
        summary=f"Move a {name} to the trash (or delete it)",
        parameters=(PERMANENT,),
    )
    describe(
        list_view,
        "list",
        name,
        summary=f"List an event's {plural}",
        filters={key: fn.__doc__ or "" for key, fn in hooks.special_filters.items()},
    )
    view = dict(renderer="jsonapi")
    config.add_route(f"{name}.item", f"/{plural}/{{id}}", factory=context_factory)
    # The list only reads the event: its id, timezone and team.
    config.add_route(f"event.{plural}", f"/events/{{id}}/{plural}", factory=reading(event_context))
    config.add_view(
        read_view,
        route_name=f"{name}.item",
        request_method="GET",
        permission=read_permission,
        **view,
    )
    config.add_view(
        list_view,
        route_name=f"event.{plural}",
        request_method="GET",
        permission=read_permission,
        **view,
    )
    if permission is None:
        return  # read-only
    config.add_route(f"{name}.collection", f"/{plural}")
    config.add_view(create_view, route_name=f"{name}.collection", request_method="POST", **view)
    config.add_view(
        update_view,
        route_name=f"{name}.item",
        request_method="PATCH",
        permission=permission,
        **view,
    )
    config.add_view(
        delete_view,
        route_name=f"{name}.item",
        request_method="DELETE",
        permission=permission,
        **view,
    )
