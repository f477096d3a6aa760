"""Collections: filter, sort, page, sparse fieldsets and include, the same on every list.

Query parameters are checked strictly: an unknown filter, sort key, field or include path is a
400 naming the parameter, never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import Select, func, select

from openevent.api.errors import JSONAPI, BadRequest
from openevent.api.fields import MAX_ID, FieldContext, Invalid, parse_id
from openevent.api.resources import RESOURCES, Resource
from openevent.api.rows import fetch_page

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Comma-separated lists (filter[x][in], sort, fields, include) take at most this many items,
# so that a short request cannot ask for a huge query.
MAX_LIST_ITEMS = 100
# The label of the page statement's column that counts every page's rows.
TOTAL = "_list_total"
_FAMILY = re.compile(r"^(?P<family>[a-z]+)(?:\[(?P<name>[^\]]+)\])?(?:\[(?P<op>[a-z]+)\])?$")

# A special filter turns the raw value into a SQL condition (or raises Invalid).
SpecialFilter = Callable[[str], object]


@dataclass
class ListQuery:
    """The parsed query parameters of a request."""

    conditions: list = field(default_factory=list)
    order_by: list = field(default_factory=list)
    page_number: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    fieldsets: dict[str, set[str]] = field(default_factory=dict)
    include: list[str] = field(default_factory=list)


def parse_document_params(request, resource: Resource, allowed: Iterable[str] = ()) -> ListQuery:
    """``fields`` and ``include`` for a single resource; anything else is a 400."""
    return _parse(request, resource, FieldContext(), {}, allowed, collection=False)


def parse_list_params(
    request,
    resource: Resource,
    ctx: FieldContext,
    special_filters: dict[str, SpecialFilter] | None = None,
    allowed: Iterable[str] = (),
) -> ListQuery:
    """All collection parameters, checked against ``resource``'s declarations."""
    return _parse(request, resource, ctx, special_filters or {}, allowed, collection=True)


def _parse(request, resource, ctx, special_filters, allowed, *, collection) -> ListQuery:
    query = ListQuery()
    if len(request.GET) > MAX_LIST_ITEMS:
        raise BadRequest(f"a request takes at most {MAX_LIST_ITEMS} query parameters")
    for key, raw in request.GET.items():
        match = _FAMILY.match(key)
        family = match and match["family"]
        if key in allowed:
            continue
        if family == "fields" and match["name"] and not match["op"]:
            query.fieldsets[match["name"]] = _parse_fieldset(key, match["name"], raw)
        elif family == "include" and not match["name"]:
            query.include = _parse_include(key, resource, raw)
        elif collection and family == "filter" and match["name"]:
            name, op = match["name"], match["op"] or "eq"
            if name in special_filters and op == "eq":
                try:
                    query.conditions.append(special_filters[name](raw))
                except Invalid as exc:
                    raise BadRequest(f"{key} {exc}", parameter=key) from None
            else:
                query.conditions.append(_filter(key, resource, ctx, name, op, raw))
        elif collection and family == "sort" and not match["name"]:
            query.order_by = _parse_sort(key, resource, raw)
        elif collection and family == "page" and match["name"] in ("number", "size"):
            # A page number is at most as large as an id, so that any OFFSET fits 64 bits.
            maximum = MAX_PAGE_SIZE if match["name"] == "size" else MAX_ID
            setattr(query, f"page_{match['name']}", _page_parameter(key, raw, maximum))
        else:
            raise BadRequest(f"unknown query parameter {key!r}", parameter=key)
    return query


def _items(key, raw) -> list[str]:
    """The items of a comma-separated list, at most :data:`MAX_LIST_ITEMS` of them."""
    items = raw.split(",", MAX_LIST_ITEMS)
    if len(items) > MAX_LIST_ITEMS:
        raise BadRequest(f"{key} takes at most {MAX_LIST_ITEMS} values", parameter=key)
    return items


def _parse_fieldset(key, type_, raw) -> set[str]:
    target = RESOURCES.get(type_)
    if target is None:
        raise BadRequest(f"{key}: no resource type {type_!r}", parameter=key)
    names = {name for name in _items(key, raw) if name}
    unknown = names - set(target.fields) - set(target.relationships)
    if unknown:
        raise BadRequest(f"{key}: {type_} has no field {sorted(unknown)[0]!r}", parameter=key)
    return names


def _parse_include(key, resource, raw) -> list[str]:
    paths = [path for path in _items(key, raw) if path]
    for path in paths:
        if path not in resource.relationships:
            raise BadRequest(
                f"include: {resource.type} has no relationship {path!r}", parameter=key
            )
    return paths


def _parse_sort(key, resource, raw):
    order_by = []
    for item in _items(key, raw):
        name = item.removeprefix("-")
        spec = resource.fields.get(name)
        if spec is None or not spec.sortable:
            raise BadRequest(f"sort: {resource.type} cannot be sorted by {name!r}", parameter=key)
        column = getattr(resource.model, spec.attr)
        order_by.append(column.desc() if item.startswith("-") else column.asc())
    return order_by


def _filter(key, resource, ctx, name, op, raw):
    spec = resource.fields.get(name)
    if spec is None or not spec.filterable:
        raise BadRequest(f"{key}: {resource.type} cannot be filtered by {name!r}", parameter=key)
    if op not in spec.operators:
        ops = ", ".join(spec.operators)
        raise BadRequest(f"{key}: {name} takes the operators {ops}", parameter=key)
    column = getattr(resource.model, spec.attr)
    try:
        if op == "in":
            return column.in_([spec.parse_query(value, ctx) for value in _items(key, raw)])
        value = spec.parse_query(raw, ctx)
    except Invalid as exc:
        raise BadRequest(f"{key}: {exc}", parameter=key) from None
    return {
        "eq": column.__eq__,
        "lt": column.__lt__,
        "gt": column.__gt__,
        "le": column.__le__,
        "ge": column.__ge__,
    }[op](value)


def _page_parameter(key, raw, maximum: int) -> int:
    try:
        value = parse_id(raw)
    except Invalid:
        value = 0  # refused below, with the same words
    if not 1 <= value <= maximum:
        raise BadRequest(f"{key} must be a whole number from 1 to {maximum}", parameter=key)
    return value


def render_list(
    request, resource: Resource, stmt: Select, query: ListQuery, *, team: bool, event=None
):
    """The collection document for ``stmt`` (already limited to the visible rows); ``event``,
    when they all belong to one, saves looking it up for its timezone."""
    stmt = stmt.where(*query.conditions)
    # Counted on the ids alone: as many rows, in a subquery that the database reads faster and
    # whose cache key SQLAlchemy works out faster (it walks every column at each request).
    ids = stmt.with_only_columns(resource.model.id, maintain_column_froms=True)
    counting = select(func.count()).select_from(ids.subquery())
    # The total rides on the page's statement, a subquery that the database computes once: one
    # round trip less. An empty page carries no total: counted apart, unless it is the first.
    total = counting.scalar_subquery().label(TOTAL)
    fieldset = query.fieldsets.get(resource.type)
    offset = (query.page_number - 1) * query.page_size
    page = (
        stmt.order_by(*(query.order_by or resource.default_order()), resource.model.id)
        .limit(query.page_size)
        .offset(offset)
    )
    # To-many links are rendered from the loaded rows; to-one links from foreign keys.
    linked = [
        name
        for name, rel in resource.relationships.items()
        if rel.many and (fieldset is None or name in fieldset)
    ]
    fetched = fetch_page(request.dbsession, resource, page, query.include, linked, total)
    if fetched is None:
        page = page.add_columns(total).options(*resource.loader_options(fieldset, query.include))
        result = request.dbsession.execute(page).all()
        fetched = [row[0] for row in result], result[0][1] if result else None
    rows, count = fetched
    if count is None:
        count = 0 if offset == 0 else request.dbsession.scalar(counting)
    contexts = _Contexts(event)
    data = [resource.serialize(row, contexts(resource, row), fieldset, team) for row in rows]
    document = {"data": data, "links": _page_links(request, query, count), "meta": {"count": count}}
    if query.include:
        document["included"] = _included(resource, rows, query, team, contexts)
    document["jsonapi"] = JSONAPI
    return document


def render_one(request, resource: Resource, obj, query: ListQuery | None = None, *, team: bool):
    """The document for one resource, with its includes."""
    query = query or ListQuery()
    fieldset = query.fieldsets.get(resource.type)
    document = {
        "data": resource.serialize(obj, resource.context_for(obj), fieldset, team),
        "links": {"self": resource.link(obj)},
    }
    if query.include:
        document["included"] = _included(resource, [obj], query, team, _Contexts())
    document["jsonapi"] = JSONAPI
    return document


class _Contexts:
    """Field contexts of one response, per event: its rows share a handful of timezones."""

    def __init__(self, event=None):
        self._by_event: dict = {} if event is None else {event.id: FieldContext(event.tzinfo)}

    def __call__(self, resource: Resource, obj) -> FieldContext:
        key = resource.event_id_of(obj)
        context = self._by_event.get(key)
        if context is None:
            context = self._by_event[key] = resource.context_for(obj)
        return context


def _included(resource, rows, query, team, contexts: _Contexts) -> list[dict]:
    seen: dict[tuple[str, int], dict] = {}
    links = []
    for name in query.include:
        rel = resource.relationships[name]
        links.append((rel, rel.resource, query.fieldsets.get(rel.type)))
    for row in rows:
        for rel, target_resource, fieldset in links:
            targets = getattr(row, rel.attr)
            for target in targets if rel.many else [targets]:
                if target is None or (key := (rel.type, target.id)) in seen:
                    continue
                if not team and not target_resource.is_public(target):
                    continue
                if getattr(target, "deleted_at", None) is not None:
                    continue
                seen[key] = target_resource.serialize(
                    target, contexts(target_resource, target), fieldset, team, to_many=False
                )
    return list(seen.values())


def _page_links(request, query: ListQuery, count: int) -> dict:
    last = max(1, -(-count // query.page_size))
    params = [(k, v) for k, v in request.GET.items() if not k.startswith("page[")]

    def link(number):
        pairs = [*params, ("page[number]", number), ("page[size]", query.page_size)]
        return f"{request.path}?{urlencode(pairs)}"

    links = {"self": link(query.page_number), "first": link(1), "last": link(last)}
    links["prev"] = link(query.page_number - 1) if query.page_number > 1 else None
    links["next"] = link(query.page_number + 1) if query.page_number < last else None
    return links
