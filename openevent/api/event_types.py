"""/v1/event-types: the kinds of event (conference, meetup, ...), managed by site admins.

Anyone may read them; only site administrators (``Permission.ADMIN``) create, rename or delete
them. Each type's slug follows its name and is unique, so a name whose slug is taken is a 409.
Deleting a type leaves its events without one (the foreign key is ``ON DELETE SET NULL``).
"""

from pyramid.authorization import Allow
from pyramid.httpexceptions import HTTPNoContent
from sqlalchemy import select

from openevent.api.contexts import _id_from
from openevent.api.crud import created, get_one
from openevent.api.documents import read_resource_object
from openevent.api.errors import Conflict, NotFound, Unprocessable
from openevent.api.fields import FieldContext, String
from openevent.api.openapi import describe
from openevent.api.query import parse_list_params, render_list
from openevent.api.resources import Resource, register
from openevent.models import EventType
from openevent.security import ADMIN_PRINCIPAL, Permission


class EventTypeResource(Resource):
    """Event types belong to no event: times need no timezone and there is no team."""

    event_attr = None

    def validate(self, obj, ctx):
        if not obj.slug:
            raise Unprocessable(
                "name must contain a letter or digit", pointer="/data/attributes/name"
            )


event_type_resource = register(
    EventTypeResource(
        type="event-type",
        model=EventType,
        path="/v1/event-types",
        fields={
            "name": String(required=True, min_length=1),
            "slug": String(read_only=True, description="derived from the name"),
        },
    )
)


class EventTypeContext:
    """One event type; site administrators may change it."""

    __acl__ = [(Allow, ADMIN_PRINCIPAL, Permission.ADMIN)]

    def __init__(self, request):
        self.request = request
        type_id = _id_from(request, "id")
        self.event_type = request.dbsession.get(EventType, type_id)
        if self.event_type is None:
            raise NotFound(f"no event-type with id {type_id}")


def _write(request, event_type: EventType, data: dict, *, creating: bool) -> None:
    """Validate and write ``data``; a slug another type has is a 409 before anything is flushed."""
    dbsession = request.dbsession
    # No autoflush: the duplicate check must run before the new slug reaches the database.
    with dbsession.no_autoflush:
        event_type_resource.apply(request, event_type, data, FieldContext(), creating=creating)
        taken = select(EventType.id).where(EventType.slug == event_type.slug)
        if event_type.id is not None:
            taken = taken.where(EventType.id != event_type.id)
        if dbsession.scalar(taken) is not None:
            raise Conflict(
                f"an event type with the slug {event_type.slug!r} exists; choose another name",
                pointer="/data/attributes/name",
            )
    if creating:
        dbsession.add(event_type)
    dbsession.flush()


def list_event_types(request):
    """GET /v1/event-types: every type, with the usual filters, sorting and pages."""
    query = parse_list_params(request, event_type_resource, FieldContext())
    return render_list(request, event_type_resource, select(EventType), query, team=False)


def create_event_type(request):
    """POST /v1/event-types (site admins)."""
    data = read_resource_object(request, "event-type")
    event_type = EventType()
    _write(request, event_type, data, creating=True)
    return created(request, event_type_resource, event_type, request.context)


def read_event_type(context, request):
    """GET /v1/event-types/{id}."""
    return get_one(request, event_type_resource, context.event_type, context)


def update_event_type(context, request):
    """PATCH /v1/event-types/{id} (site admins); renaming changes the slug."""
    event_type = context.event_type
    data = read_resource_object(request, "event-type", with_id=str(event_type.id))
    _write(request, event_type, data, creating=False)
    return get_one(request, event_type_resource, event_type, context)


def delete_event_type(context, request):
    """DELETE /v1/event-types/{id} (site admins); its events keep going without a type."""
    request.dbsession.delete(context.event_type)
    request.dbsession.flush()
    return HTTPNoContent()


describe(list_event_types, "list", "event-type", summary="List event types")
describe(create_event_type, "create", "event-type", summary="Create an event type (admins)")
describe(read_event_type, "read", "event-type", summary="Read an event type")
describe(update_event_type, "update", "event-type", summary="Rename an event type (admins)")
describe(delete_event_type, "delete", "event-type", summary="Delete an event type (admins)")


def includeme(config):
    json = dict(renderer="jsonapi")
    config.add_route("event-type.collection", "/event-types")
    config.add_route("event-type.item", "/event-types/{id}", factory=EventTypeContext)
    config.add_view(
        list_event_types, route_name="event-type.collection", request_method="GET", **json
    )
    config.add_view(
        create_event_type,
        route_name="event-type.collection",
        request_method="POST",
        permission=Permission.ADMIN,
        **json,
    )
    config.add_view(read_event_type, route_name="event-type.item", request_method="GET", **json)
    config.add_view(
        update_event_type,
        route_name="event-type.item",
        request_method="PATCH",
        permission=Permission.ADMIN,
        **json,
    )
    config.add_view(
        delete_event_type,
        route_name="event-type.item",
        request_method="DELETE",
        permission=Permission.ADMIN,
        **json,
    )
