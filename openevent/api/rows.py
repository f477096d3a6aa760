"""Rows of a list without the ORM: a page and its related rows read as plain columns.

Hydrating ORM objects (identity map, instance state, attribute instrumentation, relationship
collections) costs more than reading and serializing the rows themselves, and a list only reads
them. :func:`fetch_page` runs the same statements the ORM's eager loads would (the page, then
one per to-many relationship or include, whatever the page size) but as Core rows, and wraps
each in a :class:`RowView`: the model's columns as attributes, to-many relationships as lists of
views, so that :meth:`Resource.serialize` (and a subclass's override), ``Computed`` fields and
``is_public`` read it as they read the ORM object.

Anything else a view is asked for is answered as the ORM object would: a property or method of
the model runs on the view; a to-one relationship comes from the session by its foreign key
(the identity map first, as the ORM's lazy load does); anything left (a relationship not loaded
here, say) from the ORM objects of the whole page, loaded in one statement on first use.
"""

from __future__ import annotations

import types
from functools import cache
from inspect import getattr_static
from typing import Any

from sqlalchemy import Select, bindparam, inspect, select
from sqlalchemy.orm import RelationshipDirection

_MISSING = object()


@cache
def _columns(model) -> tuple[tuple[str, Any], ...]:
    """(attribute name, column attribute) of every column the ORM loads by default."""
    mapper = inspect(model)
    return tuple(
        (prop.key, getattr(model, prop.key)) for prop in mapper.column_attrs if not prop.deferred
    )


@cache
def _to_one(model) -> dict[str, tuple[type, str]]:
    """Many-to-one relationships named by one foreign key column: name -> (target, key)."""
    mapper = inspect(model)
    found = {}
    for rel in mapper.relationships:
        if rel.direction is not RelationshipDirection.MANYTOONE or len(rel.local_columns) != 1:
            continue
        [column] = rel.local_columns
        keys = [p.key for p in mapper.column_attrs if column in p.columns]
        if keys:
            found[rel.key] = (rel.mapper.class_, keys[0])
    return found


@cache
def supports(model) -> bool:
    """Whether rows of ``model`` can be read as views: one ``id`` primary key column."""
    mapper = inspect(model)
    return len(mapper.primary_key) == 1 and mapper.primary_key[0].key == "id"


class _Page:
    """What the views of one fetch share: the session, and the ORM objects once needed."""

    __slots__ = ("dbsession", "model", "objects", "views")

    def __init__(self, dbsession, model):
        self.dbsession = dbsession
        self.model = model
        self.views: list[RowView] = []
        self.objects: dict | None = None

    def orm_object(self, row_id):
        if self.objects is None:
            ids = [view.id for view in self.views]
            rows = self.dbsession.scalars(select(self.model).where(self.model.id.in_(ids)))
            self.objects = {row.id: row for row in rows}
        return self.objects.get(row_id)


class RowView:
    """One row: its columns as attributes; see the module docstring for anything else."""

    def __init__(self, page: _Page, values):
        self.__dict__.update(values)
        self.__dict__["_RowView__page"] = page

    def __getattr__(self, name: str):
        page: _Page = self.__dict__["_RowView__page"]
        model = page.model
        try:
            descriptor = getattr_static(model, name)
        except AttributeError:
            raise AttributeError(name) from None
        if name not in inspect(model).all_orm_descriptors:
            if isinstance(descriptor, property):
                return descriptor.fget(self)
            if isinstance(descriptor, types.FunctionType):
                return types.MethodType(descriptor, self)
            return getattr(model, name)
        to_one = _to_one(model).get(name)
        if to_one is not None:
            target, key = to_one
            value = self.__dict__.get(key)
            return None if value is None else page.dbsession.get(target, value)
        return getattr(page.orm_object(self.__dict__["id"]), name)

    def __repr__(self) -> str:
        page: _Page = self.__dict__["_RowView__page"]
        return f"<{page.model.__name__} row {self.__dict__.get('id')}>"


def execute(dbsession, statement, parameters=None):
    """Run a Core ``statement`` in ``dbsession``'s transaction, after the autoflush that
    ``dbsession.execute`` would do, but on its connection: the ORM's result machinery (built to
    make entities) costs more than reading plain rows."""
    if dbsession.autoflush:
        dbsession.flush()
    return dbsession.connection().execute(statement, parameters)


def _view(page: _Page, keys, values) -> RowView:
    view = object.__new__(RowView)
    state = dict(zip(keys, values, strict=True))
    state["_RowView__page"] = page
    view.__dict__ = state
    page.views.append(view)
    return view


@cache
def _row_with_many(model, to_many: str) -> tuple[Select, int]:
    """The statement of :func:`fetch_one` (built once: a statement object also keeps the key of
    its compiled form), and how many of its columns are the row's own."""
    target = inspect(model).relationships[to_many].mapper.class_
    own = _column_select(model)
    statement = (
        select(*own, *(attribute.label(f"{to_many}.{key}") for key, attribute in _columns(target)))
        .select_from(model)
        .outerjoin(getattr(model, to_many))
        .where(model.id == bindparam("row_id"))
        .order_by(target.id)
    )
    return statement, len(own)


def fetch_one(dbsession, model, row_id: int, to_many: str) -> RowView | None:
    """The row of ``model`` with id ``row_id`` as a view, with its to-many relationship
    ``to_many`` (a short one: its rows are joined) as a list of views, in one statement; None
    if there is no such row. For code that only reads the row, cheaper than the ORM object."""
    statement, own = _row_with_many(model, to_many)
    result = execute(dbsession, statement, {"row_id": row_id})
    keys = tuple(result.keys())
    own_keys = keys[:own]
    target_keys = tuple(key.removeprefix(f"{to_many}.") for key in keys[own:])
    page = _Page(dbsession, model)
    targets = _Page(dbsession, inspect(model).relationships[to_many].mapper.class_)
    target_id = own + target_keys.index("id")
    view = None
    related: list[RowView] = []
    for values in result.all():
        if view is None:
            view = _view(page, own_keys, values[:own])
        if values[target_id] is not None:  # None: the outer join found no related row
            related.append(_view(targets, target_keys, values[own:]))
    if view is not None:
        view.__dict__[to_many] = related
    return view


def _views(dbsession, model, statement: Select, parameters=None, parent: str | None = None):
    """Run ``statement`` (columns labelled with attribute names, with ``parameters``) as views
    of ``model``; with ``parent`` (the label of a first column naming the parent row),
    ``(parent, view)`` pairs, one view per row of ``model`` however many parents share it."""
    page = _Page(dbsession, model)
    result = execute(dbsession, statement, parameters)
    keys = tuple(result.keys())
    # All at once: iterating the result fetches its rows one by one.
    rows = result.all()
    if parent is None:
        return [_view(page, keys, values) for values in rows]
    keys = keys[1:]
    pairs = []
    seen: dict = {}
    id_index = keys.index("id") + 1
    for values in rows:
        view = seen.get(values[id_index])
        if view is None:
            view = seen[values[id_index]] = _view(page, keys, values[1:])
        pairs.append((values[0], view))
    return pairs


@cache
def _column_select(model) -> tuple:
    return tuple(attribute.label(key) for key, attribute in _columns(model))


def fetch_page(dbsession, resource, page: Select, include, to_many_needed, total):
    """``(views, total)``: the rows of ``page`` (a ``select(resource.model)``, ordered and
    limited) as views, with the to-many relationships ``to_many_needed`` (attribute names) and
    those ``include`` names loaded, in one statement each; and the value of ``total``, a
    labelled column read with the page's rows (None when the page is empty). None when the
    resource's rows cannot be read as views (then the caller loads ORM objects)."""
    model = resource.model
    if not supports(model) or resource.orm_rows:
        return None
    relations = {}
    for name in {*include, *to_many_needed}:
        rel = resource.relationships[name]
        target = rel.resource.model
        if not supports(target) or target is model or rel.resource.orm_rows:
            return None
        if not rel.many and f"{rel.attr}_id" not in dict(_columns(model)):
            return None
        relations[name] = rel
    views = _views(dbsession, model, page.with_only_columns(*_column_select(model), total))
    value = None
    if views:
        value = views[0].__dict__[total.key]
        for view in views:
            del view.__dict__[total.key]
    _load_relations(dbsession, model, views, relations)
    return views, value


@cache
def _to_many_select(model, attr: str, target) -> Select:
    """The rows of ``model``'s to-many relationship ``attr`` for the parents whose ids are the
    ``ids`` parameter, each with its parent's id first. Built once per relationship: a
    statement object keeps the key of its compiled form, which is otherwise worked out anew
    (walking every column) at each execution."""
    parent = model.id.label("_parent_id")
    return (
        select(parent, *_column_select(target))
        .select_from(model)
        .join(getattr(model, attr))
        .where(model.id.in_(bindparam("ids", expanding=True)))
        .order_by(parent, target.id)
    )


@cache
def _by_ids_select(target) -> Select:
    """The rows of ``target`` whose ids are the ``ids`` parameter (see _to_many_select)."""
    return select(*_column_select(target)).where(target.id.in_(bindparam("ids", expanding=True)))


def _load_relations(dbsession, model, views, relations) -> None:
    """Attach the rows of ``relations`` to ``views``, one statement per relationship."""
    if not views:
        return
    by_id = {view.id: view for view in views}
    for rel in relations.values():
        target = rel.resource.model
        if rel.many:
            statement = _to_many_select(model, rel.attr, target)
            lists: dict[int, list] = {view_id: [] for view_id in by_id}
            pairs = _views(dbsession, target, statement, {"ids": list(by_id)}, parent="_parent_id")
            for parent_id, view in pairs:
                lists[parent_id].append(view)
            for view_id, targets in lists.items():
                by_id[view_id].__dict__[rel.attr] = targets
        else:
            key = f"{rel.attr}_id"
            ids = {view.__dict__[key] for view in views} - {None}
            targets = {}
            if ids:
                found = _views(dbsession, target, _by_ids_select(target), {"ids": list(ids)})
                targets = {t.id: t for t in found}
            for view in views:
                view.__dict__[rel.attr] = targets.get(view.__dict__[key])
