"""/v1/tickets: the kinds of ticket an event sells, in the order its team chose."""

import re

from sqlalchemy import and_, not_, or_

from openevent import ticket_positions
from openevent.api.crud import Hooks, add_event_scoped_resource
from openevent.api.errors import NotFound, Unprocessable
from openevent.api.events import RestoreOnly, ends_after_start
from openevent.api.fields import Boolean, DateTime, Html, Integer, Invalid, Money, String
from openevent.api.resources import Relationship, Resource, register
from openevent.db import utcnow
from openevent.models import Ticket
from openevent.security import Permission

POSITION_POINTER = "/data/attributes/position"


class Currency(String):
    """An ISO 4217 code: three upper-case letters."""

    _PATTERN = re.compile(r"^[A-Z]{3}$")

    def __init__(self, attr=None, **kw):
        super().__init__(attr, max_length=3, **kw)

    def parse_value(self, value, ctx):
        if not self._PATTERN.match(super().parse_value(value, ctx)):
            raise Invalid("must be an ISO 4217 code of three upper-case letters, such as EUR")
        return value

    def schema(self):
        return {**super().schema(), "pattern": self._PATTERN.pattern}


class TicketResource(Resource):
    def public_clause(self):
        return Ticket.is_hidden.is_(False)

    def is_public(self, obj):
        return not obj.is_hidden

    def default_order(self):
        return [Ticket.position]

    def validate(self, obj, ctx):
        ends_after_start(obj, "sales_starts_at", "sales_ends_at", "sales-ends-at")

    def apply(self, request, obj, data, ctx, *, creating):
        """As for any resource, except that positions are written by :mod:`ticket_positions`,
        which moves the other tickets too: when one is created, restored or given a position."""
        session = request.dbsession
        was_live = not creating and obj.deleted_at is None
        current = obj.position
        with session.no_autoflush:
            super().apply(request, obj, data, ctx, creating=creating)
            requested = obj.position if "position" in data.get("attributes", {}) else None
            obj.position = current
        try:
            if obj.deleted_at is None and not was_live:
                ticket_positions.add(session, obj, requested)
            elif requested is not None and obj.deleted_at is not None:
                raise Unprocessable(
                    "position: a ticket in the trash has none; restore it with deleted-at: null",
                    pointer=POSITION_POINTER,
                )
            elif requested is not None:
                ticket_positions.move(session, obj, requested)
        except ticket_positions.PositionOutOfRange as exc:
            raise Unprocessable(f"position {exc}", pointer=POSITION_POINTER) from None


ticket_resource = register(
    TicketResource(
        type="ticket",
        model=Ticket,
        path="/v1/tickets",
        fields={
            "name": String(required=True, min_length=1),
            "description": Html(),
            "price": Money(nullable=False, description='decimal string, e.g. "19.99"'),
            "currency": Currency(nullable=False),
            "quantity": Integer(minimum=0, nullable=False),
            "sales-starts-at": DateTime(),
            "sales-ends-at": DateTime(),
            "position": Integer(
                minimum=1,
                nullable=False,
                description="1 is first; by default a new ticket comes last",
            ),
            "is-hidden": Boolean(nullable=False),
            "created-at": DateTime(read_only=True),
            "last-modified-at": DateTime(read_only=True),
            "deleted-at": RestoreOnly(),
        },
        relationships={"event": Relationship("event", "event", writable=False)},
    )
)


def sales_open(request, raw: str):
    """``filter[sales-open]``: whether the sales window contains the current instant."""
    if raw not in ("true", "false"):
        raise Invalid("must be true or false")
    now = utcnow()
    start, end = Ticket.sales_starts_at, Ticket.sales_ends_at
    # Instants are compared in UTC, so the event's timezone and its DST changes play no part.
    is_open = and_(or_(start.is_(None), start <= now), or_(end.is_(None), end > now))
    return is_open if raw == "true" else not_(is_open)


def _lock(request, ticket):
    if not ticket_positions.lock(request.dbsession, ticket):
        raise NotFound(f"ticket {ticket.id} was deleted meanwhile")


def _before_write(request, ticket, data):
    _lock(request, ticket)


def _before_trash(request, ticket):
    _lock(request, ticket)
    ticket_positions.remove(request.dbsession, ticket)


def includeme(config):
    hooks = Hooks(
        before_write=_before_write,
        before_trash=_before_trash,
        special_filters={"sales-open": sales_open},
    )
    add_event_scoped_resource(config, ticket_resource, "tickets", Permission.EDIT_TICKETS, hooks)
