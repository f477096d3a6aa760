"""/v1/events: events, and their teams under /v1/events/{id}/roles."""

import pytz
from pyramid.httpexceptions import HTTPNoContent
from sqlalchemy import and_, exists, or_, select

from openevent import event_locks
from openevent.api.contexts import EventContext, _id_from, require
from openevent.api.crud import TRASHED, created, get_one, trashed_condition, write_one
from openevent.api.documents import read_resource_object
from openevent.api.errors import JSONAPI, Conflict, Forbidden, NotFound, Unprocessable
from openevent.api.fields import (
    Choice,
    DateTime,
    Email,
    FieldContext,
    Html,
    Integer,
    Invalid,
    Number,
    String,
    Timezone,
    Url,
)
from openevent.api.openapi import describe
from openevent.api.query import parse_list_params, render_list
from openevent.api.resources import Relationship, Resource, register
from openevent.db import utcnow
from openevent.models import Event, EventPrivacy, EventRole, EventState, Role
from openevent.security import Permission


class RestoreOnly(DateTime):
    """``deleted-at``: read-only but for null, which restores the row from the trash."""

    def parse(self, value, ctx):
        if value is not None:
            raise Invalid("can only be set to null, to restore from the trash")
        return None

    def schema(self):
        return {**super().schema(), "description": "set to null to restore from the trash"}


def coordinates() -> dict:
    """``latitude`` and ``longitude`` in degrees, as Open Event has them (events, rooms)."""
    return {
        "latitude": Number(minimum=-90, maximum=90),
        "longitude": Number(minimum=-180, maximum=180),
    }


def ends_after_start(obj, starts="starts_at", ends="ends_at", name="ends-at"):
    start, end = getattr(obj, starts), getattr(obj, ends)
    if start is not None and end is not None and end <= start:
        raise Unprocessable(
            f"{name} must be after {name.replace('ends', 'starts')}",
            pointer=f"/data/attributes/{name}",
        )


class EventResource(Resource):
    event_attr = None

    def event_of(self, obj):
        return obj

    def event_id_of(self, obj):
        return obj.id

    def public_clause(self):
        return and_(Event.state == EventState.PUBLISHED, Event.deleted_at.is_(None))

    def is_public(self, obj):
        return obj.state is EventState.PUBLISHED and obj.deleted_at is None

    def validate(self, obj, ctx):
        ends_after_start(obj)


event_resource = register(
    EventResource(
        type="event",
        model=Event,
        path="/v1/events",
        fields={
            "name": String(required=True, min_length=1),
            "identifier": String(read_only=True, max_length=16),
            "description": Html(),
            "starts-at": DateTime(required=True),
            "ends-at": DateTime(required=True),
            "timezone": Timezone(required=True),
            "state": Choice(EventState, nullable=False),
            "location-name": String(),
            "logo-url": Url(),
            "original-image-url": Url(),
            **coordinates(),
            "email": Email(description="the event's public contact address"),
            "organizer-name": String(),
            "organizer-description": Html(),
            "code-of-conduct": Html(),
            "external-event-url": Url(description="the event's own web site"),
            "ticket-url": Url(description="where tickets are sold, if not here"),
            "privacy": Choice(EventPrivacy, nullable=False),
            "schedule-published-on": DateTime(),
            # Open Event's event-copyright object, one per event, as attributes of the event.
            "copyright-holder": String(),
            "copyright-holder-url": Url(),
            "copyright-licence": String(),
            "copyright-licence-url": Url(),
            "copyright-year": Integer(minimum=1900, maximum=2199),
            "copyright-logo-url": Url(),
            # Resized copies of the banner, set by an image plugin's job (openevent-images).
            "large-image-url": Url(read_only=True),
            "thumbnail-image-url": Url(read_only=True),
            "icon-image-url": Url(read_only=True),
            "created-at": DateTime(read_only=True),
            "last-modified-at": DateTime(read_only=True),
            "deleted-at": RestoreOnly(),
        },
        relationships={"event-type": Relationship("event-type", "event_type")},
    )
)


class RoleResource(Resource):
    def check_related(self, obj, rel, rows):
        pass  # users belong to no event


role_resource = register(
    RoleResource(
        type="event-role",
        model=EventRole,
        path="/v1/roles",
        fields={"role": Choice(Role, required=True)},
        relationships={
            "user": Relationship("user", "user", required=True),
            "event": Relationship("event", "event", writable=False),
        },
    )
)


def create_event(request):
    require(request, Permission.CREATE_EVENT, request.root)
    data = read_resource_object(request, "event")
    event = Event(roles=[EventRole(user=request.identity, role=Role.OWNER)])
    write_one(request, event_resource, event, data, _tz_of(data, None), creating=True)
    return created(request, event_resource, event, EventContext(request, event))


def _tz_of(data, event: Event | None) -> FieldContext:
    """Naive times are read in the timezone this request sets, else in the event's."""
    name = data.get("attributes", {}).get("timezone")
    if isinstance(name, str) and name in pytz.all_timezones_set:
        return FieldContext(pytz.timezone(name))
    return FieldContext(event.tzinfo if event is not None else pytz.utc)


def list_events(request):
    user = request.identity
    on_team = (
        exists().where(EventRole.event_id == Event.id, EventRole.user_id == user.id)
        if user is not None
        else None
    )
    trashed = request.GET.get(TRASHED)
    stmt = select(Event)
    if trashed in ("only", "with"):
        if on_team is None:
            # What anyone else gets for a trash (see trashed_condition); the trash of a
            # signed-in caller holds the events whose team they are on, maybe none.
            raise NotFound("only an event's team sees it in the trash", parameter=TRASHED)
        stmt = stmt.where(on_team, trashed_condition(event_resource, trashed, True))
    else:
        stmt = stmt.where(trashed_condition(event_resource, trashed, False))
        visible = event_resource.public_clause()
        stmt = stmt.where(or_(visible, on_team) if on_team is not None else visible)
    query = parse_list_params(request, event_resource, FieldContext(), allowed=(TRASHED,))
    # Team members see their drafts; per-row team rights only widen what is shown.
    return render_list(request, event_resource, stmt, query, team=False)


def read_event(context, request):
    return get_one(request, event_resource, context.event, context)


def update_event(context, request):
    data = read_resource_object(request, "event", with_id=str(context.event.id))
    ctx = _tz_of(data, context.event)
    write_one(request, event_resource, context.event, data, ctx, creating=False)
    return get_one(request, event_resource, context.event, context)


def delete_event(context, request):
    if context.event.deleted_at is None:
        context.event.deleted_at = utcnow()
    return HTTPNoContent()


# Roles


def list_roles(context, request):
    """The team; only the team sees it."""
    stmt = select(EventRole).where(EventRole.event_id == context.event.id)
    query = parse_list_params(request, role_resource, FieldContext(context.event.tzinfo))
    return render_list(request, role_resource, stmt, query, team=True)


def _lock_team(request, context) -> None:
    """Before a change to the team: wait for any other change to it to end, then re-read it.

    The event and its roles were loaded before the view ran, and another change (two owners
    removing each other at the same moment) may have committed since; checked against those
    roles, both changes would pass and leave the event without an owner. After the lock, the
    caller's right to manage the team and the owner rules see the team as it is now: the
    change that waited is answered as if it had come after the other.
    """
    event = context.event
    if not event_locks.lock(request.dbsession, event.id):
        raise NotFound(f"event {event.id} was deleted meanwhile")
    # The roles as committed now, both who is on the team and in which role.
    request.dbsession.refresh(event, ["roles"])
    require(request, Permission.MANAGE_ROLES, context)


def _check_owner_rules(request, event, role: EventRole | None, new: Role | None):
    """Only owners grant or take the owner role; an event always keeps an owner."""
    current = role.role if role is not None else None
    caller = {r.role for r in event.roles if r.user_id == request.identity.id}
    if Role.OWNER in (current, new) and Role.OWNER not in caller:
        raise Forbidden("only an owner can grant or take the owner role")
    other_owners = [r for r in event.roles if r.role is Role.OWNER and r is not role]
    if current is Role.OWNER and new is not Role.OWNER and not other_owners:
        raise Conflict("the event must keep an owner; make someone else owner first")


def _role_document(role: EventRole) -> dict:
    return {"data": role_resource.serialize(role, FieldContext(), None, True), "jsonapi": JSONAPI}


def add_role(context, request):
    _lock_team(request, context)
    data = read_resource_object(request, "event-role")
    event = context.event
    role = EventRole()
    with request.dbsession.no_autoflush:
        role_resource.apply(request, role, data, FieldContext(), creating=True)
    _check_owner_rules(request, event, None, role.role)
    if any(r.user_id == role.user.id for r in event.roles):
        raise Conflict("that user already has a role on this event; change it instead")
    role.event = event
    request.dbsession.add(role)
    request.dbsession.flush()
    request.response.status_int = 201
    return _role_document(role)


def _role_in(context, request) -> EventRole:
    role_id = _id_from(request, "role_id")
    for role in context.event.roles:
        if role.id == role_id:
            return role
    raise NotFound(f"no role {role_id} on this event")


def change_role(context, request):
    _lock_team(request, context)
    role = _role_in(context, request)
    data = read_resource_object(request, "event-role", with_id=str(role.id))
    attributes = data.get("attributes", {})
    if set(attributes) - {"role"} or data.get("relationships"):
        raise Unprocessable(
            "only the role can change; remove the role and add another", pointer="/data"
        )
    try:
        new = role_resource.fields["role"].parse(attributes.get("role", role.role.value), None)
    except Invalid as exc:
        raise Unprocessable(f"role {exc}", pointer="/data/attributes/role") from None
    _check_owner_rules(request, context.event, role, new)
    role.role = new
    request.dbsession.flush()
    return _role_document(role)


def remove_role(context, request):
    _lock_team(request, context)
    role = _role_in(context, request)
    _check_owner_rules(request, context.event, role, None)
    context.event.roles.remove(role)
    request.dbsession.flush()
    return HTTPNoContent()


describe(list_events, "list", "event", summary="List published events (and your own)")
describe(create_event, "create", "event", summary="Create an event; you become its owner")
describe(read_event, "read", "event", summary="Read an event")
describe(update_event, "update", "event", summary="Change an event; deleted-at: null restores it")
describe(delete_event, "delete", "event", summary="Move an event to the trash")
describe(list_roles, "list", "event-role", summary="List the event's team")
describe(add_role, "create", "event-role", summary="Give a user a role on the event")
describe(change_role, "update", "event-role", summary="Change a team member's role")
describe(remove_role, "delete", "event-role", summary="Remove a team member", errors=("409",))


def includeme(config):
    json = dict(renderer="jsonapi")
    config.add_route("event.collection", "/events")
    config.add_route("event.item", "/events/{id}", factory=EventContext)
    config.add_route("event.roles", "/events/{id}/roles", factory=EventContext)
    config.add_route("event.role", "/events/{id}/roles/{role_id}", factory=EventContext)
    views = [
        (list_events, "event.collection", "GET", None),
        (create_event, "event.collection", "POST", None),  # checks CREATE_EVENT itself
        (read_event, "event.item", "GET", Permission.VIEW),
        (update_event, "event.item", "PATCH", Permission.EDIT),
        (delete_event, "event.item", "DELETE", Permission.DELETE),
        (list_roles, "event.roles", "GET", Permission.VIEW_TEAM),
        (add_role, "event.roles", "POST", Permission.MANAGE_ROLES),
        (change_role, "event.role", "PATCH", Permission.MANAGE_ROLES),
        (remove_role, "event.role", "DELETE", Permission.MANAGE_ROLES),
    ]
    for view, route, method, permission in views:
        config.add_view(
            view, route_name=route, request_method=method, permission=permission, **json
        )
