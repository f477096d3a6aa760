"""Resource types: how a model is shown and changed through the API.

A :class:`Resource` names its JSON:API type, its model, its attributes (fields from
:mod:`openevent.api.fields`) and its relationships, and says which rows the public may see.
Serialization, write validation, filters, sorting and the OpenAPI document all read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import selectinload

from openevent.api.errors import Unprocessable, ValidationFailed
from openevent.api.fields import Field, FieldContext, Invalid, parse_id

RESOURCES: dict[str, Resource] = {}
_NO_KEY = object()


def register(resource: Resource) -> Resource:
    """Make ``resource`` known by its type (for includes, relationships and OpenAPI).

    Types are unique: a plugin cannot replace a resource of the core's or another plugin's by
    registering its type again (a ValueError at import, so the plugin is listed as failed).
    """
    known = RESOURCES.setdefault(resource.type, resource)
    if known is not resource:
        raise ValueError(f"resource type {resource.type!r} is already registered")
    return resource


def registered(type_: str) -> Resource:
    """The resource registered as ``type_`` (``"session"``): its model, fields and what the
    public may see (``public_clause()``, ``is_public(row)``). KeyError if there is none."""
    return RESOURCES[type_]


@dataclass
class Relationship:
    """A link to another resource type; ``attr`` is the ORM relationship."""

    type: str
    attr: str
    many: bool = False
    writable: bool = True
    required: bool = False

    @property
    def resource(self) -> Resource:
        return RESOURCES[self.type]


@dataclass
class Resource:
    """How one model is exposed."""

    type: str
    model: type
    path: str  # collection path, e.g. /v1/sessions
    fields: dict[str, Field]
    relationships: dict[str, Relationship] = field(default_factory=dict)

    # Event-scoped resources answer to their event's team; the event answers to its own.
    event_attr: ClassVar[str] = "event"
    # Lists read rows as plain values (openevent.api.rows), which serialize and Computed fields
    # read like ORM objects. A resource whose code needs the ORM object itself (its session or
    # instance state, through sqlalchemy.inspect) sets this, and its lists load ORM objects.
    orm_rows: ClassVar[bool] = False

    def __post_init__(self):
        # JSON:API: attributes and relationships share one namespace with "type" and "id".
        reserved = {"type", "id"} & (set(self.fields) | set(self.relationships))
        if reserved:
            raise ValueError(f"{self.type}: JSON:API reserves the names {sorted(reserved)}")
        for name, spec in self.fields.items():
            if spec.attr is None and not hasattr(spec, "compute"):
                spec.attr = name.replace("-", "_")

    # Visibility: overridden by resources with rows the public must not see.

    def public_clause(self) -> ColumnElement[bool]:
        """SQL condition for rows anyone may see."""
        return true()

    def is_public(self, obj) -> bool:
        return True

    def event_of(self, obj):
        """The event ``obj`` belongs to; None for rows of no event (users, event types)."""
        return None if self.event_attr is None else getattr(obj, self.event_attr)

    def default_order(self) -> list:
        """ORDER BY terms of a list whose request has no ``sort``."""
        return []

    def context_for(self, obj) -> FieldContext:
        event = self.event_of(obj)
        return FieldContext() if event is None else FieldContext(tz=event.tzinfo)

    def event_id_of(self, obj) -> int | None:
        """The id of the event whose timezone ``obj`` is shown in (read without a load)."""
        return None if self.event_attr is None else obj.event_id

    # Output

    def link(self, obj) -> str:
        return f"{self.path}/{obj.id}"

    def identifier(self, obj) -> dict:
        return {"type": self.type, "id": str(obj.id)}

    def serialize(
        self, obj, ctx: FieldContext, fieldset: set[str] | None = None, team=False, to_many=True
    ):
        """The resource object for ``obj``; ``fieldset`` limits it (sparse fieldsets).

        ``to_many=False`` leaves out to-many linkage: included rows get it only when asked for
        as primary data, or every included speaker would load all of its sessions.
        """
        read, renders, relationships_plan = self._plan(fieldset, to_many)
        attributes = read(obj)
        for name, render in renders:
            attributes[name] = render(attributes[name], ctx)
        relationships = {}
        for name, rel, key_attr in relationships_plan:
            if key_attr is not None and (key := getattr(obj, key_attr, _NO_KEY)) is not _NO_KEY:
                # The foreign key names the target: no need to load it.
                data = None if key is None else {"type": rel.type, "id": str(key)}
            elif rel.many:
                target = rel.resource
                data = [
                    target.identifier(row)
                    for row in getattr(obj, rel.attr)
                    if (team or target.is_public(row)) and getattr(row, "deleted_at", None) is None
                ]
            else:
                row = getattr(obj, rel.attr)
                data = None if row is None else rel.resource.identifier(row)
            relationships[name] = {"data": data}
        document = {"type": self.type, "id": str(obj.id), "attributes": attributes}
        if relationships:
            document["relationships"] = relationships
        document["links"] = {"self": self.link(obj)}
        return document

    def _plan(self, fieldset: set[str] | None, to_many: bool) -> tuple:
        """What :meth:`serialize` reads and how it renders it, worked out once per fieldset:
        ``(read, renders, relationships)``: ``read(obj)`` gives the attributes' stored values
        by name, ``renders`` holds ``(name, render)`` for those whose field renders them, and
        ``relationships`` ``(name, relationship, foreign key attribute or None)``."""
        plans = self.__dict__.setdefault("_plans", {})
        key = (
            None if fieldset is None else frozenset(fieldset),
            to_many,
            len(self.fields),
            len(self.relationships),
        )
        plan = plans.get(key)
        if plan is None:
            fields = {
                name: spec
                for name, spec in self.fields.items()
                if fieldset is None or name in fieldset
            }
            renders = tuple(
                (name, spec.render)
                for name, spec in fields.items()
                if type(spec).render is not Field.render
            )
            relationships = tuple(
                (name, rel, None if rel.many else f"{rel.attr}_id")
                for name, rel in self.relationships.items()
                if (fieldset is None or name in fieldset) and (to_many or not rel.many)
            )
            plan = plans[key] = (_reader(fields), renders, relationships)
        return plan

    def loader_options(self, fieldset: set[str] | None, include: list[str], to_many=True):
        """Eager loads so that a page of rows, with its links and includes, costs a fixed
        number of statements."""
        options = []
        for name, rel in self.relationships.items():
            loader = selectinload(getattr(self.model, rel.attr))
            if name in include:
                # Included rows are serialized with their to-one links: load those too.
                options.append(loader.options(*rel.resource.loader_options(None, [], False)))
            elif rel.many and to_many and (fieldset is None or name in fieldset):
                # To-many links are rendered from the loaded collection; to-one links come
                # from the foreign key column and need no load.
                options.append(loader)
        return options

    # Input

    def apply(self, request, obj, data: dict, ctx: FieldContext, *, creating: bool) -> None:
        """Validate ``data`` (a resource object) and write it to ``obj``.

        Every problem is collected and raised together as a 422 with one pointer each; nothing
        is written unless everything is valid.
        """
        errors: list[Unprocessable] = []
        values: dict[str, Any] = {}
        attributes = data.get("attributes", {})
        for name, raw in attributes.items():
            pointer = f"/data/attributes/{name}"
            spec = self.fields.get(name)
            if spec is None:
                errors.append(
                    Unprocessable(f"{self.type} has no attribute {name!r}", pointer=pointer)
                )
                continue
            if spec.read_only:
                errors.append(Unprocessable(f"{name} is read-only", pointer=pointer))
                continue
            try:
                values[spec.attr] = spec.parse(raw, ctx)
            except Invalid as exc:
                errors.append(Unprocessable(f"{name} {exc}", pointer=pointer))
        if creating:
            for name, spec in self.fields.items():
                if spec.required and name not in attributes:
                    errors.append(
                        Unprocessable(f"{name} is required", pointer=f"/data/attributes/{name}")
                    )
        # Looking up related rows must not flush ``obj``: it may already be pending in the
        # session (through a backref cascade) while still half-built.
        with request.dbsession.no_autoflush:
            related = self._parse_relationships(request, obj, data, errors, creating=creating)
        if errors:
            raise ValidationFailed(errors)
        for attr, value in {**values, **related}.items():
            setattr(obj, attr, value)
        self.validate(obj, ctx)

    def validate(self, obj, ctx: FieldContext) -> None:
        """Checks across attributes, after they are set; raise Unprocessable."""

    def _parse_relationships(self, request, obj, data, errors, *, creating) -> dict:
        related = {}
        given = data.get("relationships", {})
        for name, linkage in given.items():
            pointer = f"/data/relationships/{name}"
            rel = self.relationships.get(name)
            if rel is None or not rel.writable:
                errors.append(Unprocessable(f"{name} cannot be set here", pointer=pointer))
                continue
            if not isinstance(linkage, dict) or "data" not in linkage:
                errors.append(Unprocessable(f"{name} needs a data member", pointer=pointer))
                continue
            try:
                related[rel.attr] = self._resolve(request, obj, rel, linkage["data"])
            except Invalid as exc:
                errors.append(Unprocessable(f"{name} {exc}", pointer=f"{pointer}/data"))
        if creating:
            for name, rel in self.relationships.items():
                if rel.required and name not in given:
                    errors.append(
                        Unprocessable(f"{name} is required", pointer=f"/data/relationships/{name}")
                    )
        return related

    def _resolve(self, request, obj, rel: Relationship, linkage):
        target = rel.resource
        if rel.many:
            if not isinstance(linkage, list):
                raise Invalid("must be a list of resource identifiers")
            ids = [_identifier_id(item, target.type) for item in linkage]
            rows = request.dbsession.scalars(select(target.model).where(target.model.id.in_(ids)))
            # Rows in the trash are as unknown as they are for a to-one link below.
            found = {row.id: row for row in rows if getattr(row, "deleted_at", None) is None}
            missing = [i for i in ids if i not in found]
            if missing:
                raise unknown_ids(rel, missing)
            rows = [found[i] for i in dict.fromkeys(ids)]
        else:
            if linkage is None:
                if rel.required:
                    raise Invalid("must not be null")
                return None
            target_id = _identifier_id(linkage, target.type)
            row = request.dbsession.get(target.model, target_id)
            if row is None or getattr(row, "deleted_at", None) is not None:
                raise unknown_ids(rel, [target_id])
            rows = [row]
        self.check_related(obj, rel, rows)
        return rows if rel.many else rows[0]

    def check_related(self, obj, rel: Relationship, rows: list) -> None:
        """Related rows must belong to the same event as ``obj``; raise :func:`unknown_ids`."""
        event_id = getattr(obj, "event_id", None) or getattr(
            getattr(obj, "event", None), "id", None
        )
        if rel.type == "event" or event_id is None:
            return
        foreign = [row.id for row in rows if getattr(row, "event_id", event_id) != event_id]
        if foreign:
            raise unknown_ids(rel, foreign)


def _reader(fields: dict[str, Field]):
    """A function of a row that gives ``fields``' stored values by name, in their order. Where
    no field is computed, the row's attributes are read in one call: a page's rows are read
    thousands of times a request."""
    computed = any(hasattr(spec, "compute") for spec in fields.values())
    if computed or len(fields) < 2:  # attrgetter of one name gives a value, not a tuple
        getters = [
            (name, spec.compute if hasattr(spec, "compute") else attrgetter(spec.attr))
            for name, spec in fields.items()
        ]
        return lambda obj: {name: get(obj) for name, get in getters}
    names = tuple(fields)
    get_all = attrgetter(*(spec.attr for spec in fields.values()))
    return lambda obj: dict(zip(names, get_all(obj), strict=True))


def unknown_ids(rel: Relationship, ids: list[int]) -> Invalid:
    """The error for linked ids that cannot be linked. The same words whether a row does not
    exist or belongs to another event, so that the answer tells nothing about other events."""
    listed = ", ".join(str(i) for i in dict.fromkeys(ids))
    return Invalid(f"names unknown {rel.type} ids: {listed}")


def _identifier_id(item, expected_type: str) -> int:
    """The id of a resource identifier object; JSON:API ids are strings ("3", never 3)."""
    if not isinstance(item, dict) or item.get("type") != expected_type:
        raise Invalid(f"must be a resource identifier of type {expected_type!r}")
    try:
        return parse_id(item.get("id"))
    except Invalid as exc:
        raise Invalid(f"id {exc}") from None
