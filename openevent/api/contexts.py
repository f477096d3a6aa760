"""Route context factories: load the row a URL names and say, by ACL, who may do what.

An event's ACL comes from its team (``event_roles``) and the app's role table (the core's
permissions and those plugins define, :func:`openevent.security.role_permissions`); every row of
the event inherits it. The public is granted ``event:view`` only on what it may see, so a row it
may not see answers 404 (see :func:`denial`), never 403, and its existence does not leak. What
only the team reads (a context with ``public = False``) is such a row for everyone else.
"""

from pyramid.authorization import Allow, Everyone
from sqlalchemy.orm import joinedload

from openevent.api.errors import Forbidden, NotFound, Unauthorized
from openevent.api.fields import Invalid, parse_id
from openevent.api.rows import fetch_one
from openevent.models import Event, EventState
from openevent.security import Permission, role_permissions, user_principal


def event_acl(request, event: Event, public: bool) -> list:
    permissions = role_permissions(request.registry)
    acl = [(Allow, user_principal(role.user_id), permissions[role.role]) for role in event.roles]
    if public:
        acl.append((Allow, Everyone, Permission.VIEW))
    return acl


def event_is_public(event: Event) -> bool:
    return event.state is EventState.PUBLISHED and event.deleted_at is None


def _id_from(request, key: str) -> int:
    """The id in the URL's ``key`` part; one that is not an id, or too large to be one, names
    nothing (404)."""
    raw = request.matchdict[key]
    try:
        return parse_id(raw)
    except Invalid:
        raise NotFound(f"no resource with id {raw!r}") from None


def load_event(request, event_id: int) -> Event:
    # One statement with its team (a handful of rows), which every ACL of the event reads.
    event = request.dbsession.get(Event, event_id, options=[joinedload(Event.roles)])
    if event is None:
        raise NotFound(f"no event with id {event_id}")
    return event


def read_event(request, event_id: int):
    """The event and its team as plain row views (:func:`openevent.api.rows.fetch_one`), in one
    statement: for routes that only read the event, cheaper than :func:`load_event`'s ORM
    object, and read the same way (``event.tzinfo``, ``event.roles``, ...)."""
    event = fetch_one(request.dbsession, Event, event_id, "roles")
    if event is None:
        raise NotFound(f"no event with id {event_id}")
    return event


class EventContext:
    """An event, for routes under /v1/events/{event_id}."""

    # Whether the public may see what the route shows (if the event is published).
    public = True
    # Whether the route only reads the event: then it is a row view (see read_event).
    reads_only = False

    def __init__(self, request, event: Event | None = None):
        self.request = request
        if event is None:
            load = read_event if self.reads_only else load_event
            event = load(request, _id_from(request, "id"))
        self.event = event

    @property
    def __acl__(self):
        return event_acl(self.request, self.event, self.public and event_is_public(self.event))


class TeamEventContext(EventContext):
    """An event, for routes of what only its team reads: 404 to anyone else, as a draft."""

    public = False


def reading(context: type[EventContext]) -> type[EventContext]:
    """``context`` for routes that only read their event (lists): see :func:`read_event`."""
    return type(f"Reading{context.__name__}", (context,), {"reads_only": True})


class RowContext:
    """A row that belongs to an event (session, speaker, ticket, ...)."""

    resource = None  # set by row_context()
    public = True  # False: only the team sees any row of the resource (set by row_context())

    def __init__(self, request):
        self.request = request
        model = self.resource.model
        row_id = _id_from(request, "id")
        self.row = request.dbsession.get(model, row_id)
        if self.row is None:
            raise NotFound(f"no {self.resource.type} with id {row_id}")
        self.event = load_event(request, self.row.event_id)

    @property
    def __acl__(self):
        public = (
            self.public
            and event_is_public(self.event)
            and getattr(self.row, "deleted_at", None) is None
            and self.resource.is_public(self.row)
        )
        return event_acl(self.request, self.event, public)


def row_context(resource, *, public: bool = True) -> type[RowContext]:
    """A context factory for the rows of ``resource``; ``public=False`` when only the event's
    team may see any of them."""
    attributes = {"resource": resource, "public": public}
    return type(f"{resource.model.__name__}Context", (RowContext,), attributes)


def denial(request, context) -> Exception:
    """The error for a caller ``context`` refuses: 401, 404 (may not see it) or 403."""
    authenticated = request.authenticated_userid is not None
    event = getattr(context, "event", None)
    if event is not None and not request.has_permission(Permission.VIEW, context):
        if not authenticated and request.method not in ("GET", "HEAD"):
            return Unauthorized("log in to change this: send Authorization: Bearer <token>")
        return NotFound(f"nothing at {request.path}")
    if not authenticated:
        return Unauthorized("log in to do this: send Authorization: Bearer <token>")
    return Forbidden("your role does not allow this")


def require(request, permission: str, context) -> None:
    """Raise the right API error unless the caller has ``permission`` on ``context``."""
    if not request.has_permission(permission, context):
        raise denial(request, context)


def is_team(request, context) -> bool:
    return bool(request.has_permission(Permission.VIEW_TEAM, context))
