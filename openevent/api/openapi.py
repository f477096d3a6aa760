"""``GET /v1/openapi.json``: an OpenAPI 3.1 description of every route of the API.

Paths come from Pyramid's introspector, so a route cannot be forgotten: a view without a
description is still listed, with its methods and error responses. Views describe themselves
with :func:`describe` (what kind of operation, on which resource type); schemas come from the
resources' field declarations, the same ones that validate requests.

Each operation's error statuses are derived from what its route really does (see
:func:`_error_statuses`): its path parameters, its permission, whether it reads a body, whether
it names an event in that body. ``tests/api/test_schemathesis.py`` calls every operation with
generated requests and fails on any status, content type or body the document does not declare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from openevent import __version__
from openevent.api.documents import MEDIA_TYPE
from openevent.api.query import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from openevent.api.resources import RESOURCES, Resource
from openevent.security import Permission

_STATUS = {"read": "200", "list": "200", "update": "200", "create": "201", "delete": "204"}
_ERROR_TITLES = {
    "400": "Malformed request: the URL, a query parameter or the body's JSON",
    "401": "Missing, invalid, revoked or expired token",
    "403": "The caller's role does not allow this",
    "404": "No such resource, or the caller may not see it",
    "409": "Conflicts with existing data, a team rule, or the URL (data.type, data.id)",
    "413": "Body too large",
    "415": "Body not sent in the media type the operation takes",
    "422": "Invalid attribute or relationship (source.pointer names it)",
    "503": "The database is busy or its schema is out of date; try again after Retry-After",
}
_ERROR_HEADERS = {
    "401": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    "503": {"Retry-After": {"schema": {"type": "string"}, "description": "seconds"}},
}
# Path parameters named id or *_id are row ids: digits. Others (a plugin's) are any string.
_ID_PARAMETER = re.compile(r"^(id|\w+_id)$")
_ID_SCHEMA = {"type": "string", "pattern": "^[0-9]+$"}

# `?permanent=`, read by the DELETE of rows that go to the trash (openevent.api.crud).
PERMANENT = {
    "name": "permanent",
    "in": "query",
    "description": "true removes the row for good instead of moving it to the trash",
    "schema": {"type": "boolean", "default": False},
}


@dataclass(frozen=True)
class Operation:
    """What a view does, for the OpenAPI document."""

    kind: str  # read, list, create, update, delete, or custom
    resource: str | None = None
    summary: str = ""
    request_schema: dict | None = None
    response_schema: dict | None = None
    status: str | None = None
    content_type: str = MEDIA_TYPE
    # The query parameters the view reads (OpenAPI parameter objects), when they are not the
    # ones its kind implies: fields and include for read and update, the list parameters for
    # list, none otherwise.
    parameters: tuple[dict, ...] | None = None
    # Error statuses the view answers beyond those its route implies (_error_statuses).
    errors: tuple[str, ...] = ()
    # Filters of a list beyond the resource's fields: name -> description.
    filters: dict[str, str] = field(default_factory=dict)
    # Attributes a create takes that responses never show (a password): name -> schema.
    write_only: dict[str, dict] = field(default_factory=dict)
    # Other answers without a body: status -> description (a 304).
    responses: dict[str, str] = field(default_factory=dict)
    # A body in other media types than the answer's (an upload): media type -> schema. The
    # first one decides the error statuses, as ``content_type`` does otherwise.
    request_content: dict[str, dict] = field(default_factory=dict)


def describe(view, kind: str, resource: str | None = None, **details):
    """Attach an :class:`Operation` to ``view`` and return the view."""
    view.__openapi__ = Operation(kind, resource, **details)
    return view


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _identifier(type_: str) -> dict:
    return {
        "type": "object",
        "required": ["type", "id"],
        "properties": {"type": {"const": type_}, "id": {"type": "string"}},
    }


def _linkage(rel, identifier=_identifier) -> dict:
    data = (
        {"type": "array", "items": identifier(rel.type)}
        if rel.many
        else {"oneOf": [identifier(rel.type), {"type": "null"}]}
    )
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"data": data},
        "additionalProperties": False,
    }


def _resource_schemas(resource: Resource) -> dict[str, dict]:
    """The resource object, its attributes, and the documents that answer with it."""
    t = resource.type
    included = [_ref(rel.type) for rel in resource.relationships.values()]
    included_schema = {
        "type": "array",
        "items": {"anyOf": included} if included else {"type": "object"},
    }
    link = {"type": ["string", "null"]}
    return {
        f"{t}.attributes": {
            "type": "object",
            "properties": {name: spec.schema() for name, spec in resource.fields.items()},
            "additionalProperties": False,
        },
        t: {
            "type": "object",
            "required": ["type", "id", "attributes", "links"],
            "properties": {
                "type": {"const": t},
                "id": {"type": "string"},
                "attributes": _ref(f"{t}.attributes"),
                "relationships": {
                    "type": "object",
                    "properties": {
                        name: _linkage(rel) for name, rel in resource.relationships.items()
                    },
                    "additionalProperties": False,
                },
                "links": {"type": "object", "properties": {"self": {"type": "string"}}},
            },
            "additionalProperties": False,
        },
        f"{t}.document": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": _ref(t),
                "included": included_schema,
                "links": {"type": "object", "properties": {"self": {"type": "string"}}},
                "jsonapi": {"type": "object"},
            },
            "additionalProperties": False,
        },
        f"{t}.collection": {
            "type": "object",
            "required": ["data", "meta", "links"],
            "properties": {
                "data": {"type": "array", "items": _ref(t)},
                "included": included_schema,
                "links": {
                    "type": "object",
                    "required": ["self", "first", "last", "prev", "next"],
                    "properties": {
                        name: link for name in ("self", "first", "last", "prev", "next")
                    },
                },
                "meta": {
                    "type": "object",
                    "required": ["count"],
                    "properties": {"count": {"type": "integer", "minimum": 0}},
                },
                "jsonapi": {"type": "object"},
            },
            "additionalProperties": False,
        },
    }


def _written_attribute(spec) -> dict:
    """An attribute's schema in a request: what its field's parse() accepts."""
    schema = spec.schema()
    if getattr(spec, "min_length", 0):
        # String fields count the length without surrounding blanks.
        schema = {**schema, "minLength": spec.min_length, "pattern": r"\S"}
    return schema


def _written_identifier(type_: str) -> dict:
    return {
        "type": "object",
        "required": ["type", "id"],
        "properties": {"type": {"const": type_}, "id": _ID_SCHEMA},
    }


def _request_schema(
    resource: Resource, *, creating: bool, event_linked: bool, write_only: dict[str, dict]
) -> dict:
    """The document a create or an update takes: only writable attributes and relationships,
    all of the resource's required ones on create; an update names the row by ``data.id``."""
    attributes = {
        name: _written_attribute(spec)
        for name, spec in resource.fields.items()
        if not spec.read_only
    }
    attributes.update(write_only)
    relationships = {
        name: _linkage(rel, _written_identifier)
        for name, rel in resource.relationships.items()
        if rel.writable or (name == "event" and event_linked)
    }
    required = {
        "attributes": [n for n, s in resource.fields.items() if s.required] + list(write_only),
        # POST /v1/<plural> names the event the new row belongs to (openevent.api.crud).
        "relationships": [
            n
            for n, r in resource.relationships.items()
            if r.required or (n == "event" and event_linked)
        ],
    }
    members = {"attributes": attributes, "relationships": relationships}
    data: dict = {
        "type": "object",
        "required": ["type"] if creating else ["type", "id"],
        "properties": {
            "type": {"const": resource.type},
            **({} if creating else {"id": {"type": "string"}}),
        },
    }
    for member, properties in members.items():
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if creating and required[member]:
            schema["required"] = required[member]
            data["required"].append(member)
        data["properties"][member] = schema
    return {"type": "object", "required": ["data"], "properties": {"data": data}}


_ERROR_DOCUMENT = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["status", "title"],
                "properties": {
                    "status": {"type": "string", "pattern": "^[45][0-9][0-9]$"},
                    "code": {"type": "string"},
                    "title": {"type": "string"},
                    "detail": {"type": "string"},
                    "source": {
                        "type": "object",
                        "properties": {
                            "pointer": {"type": "string"},
                            "parameter": {"type": "string"},
                        },
                    },
                    "meta": {"type": "object"},
                },
            },
        },
        "jsonapi": {"type": "object"},
    },
}


def _names_pattern(names, separator: str = ",", prefix: str = "") -> str:
    """A pattern for a (possibly empty) list of ``names`` joined by ``separator``."""
    name = "(?:" + "|".join(re.escape(n) for n in names) + ")"
    return f"^(?:{prefix}{name}(?:{separator}{prefix}{name})*)?$"


def _query_value(spec) -> dict:
    """A field's value as it appears in a filter (always text on the wire)."""
    schema = {
        k: v
        for k, v in spec.schema().items()
        if k not in ("readOnly", "description", "contentMediaType")
    }
    json_type = schema.pop("type")
    json_type = json_type[0] if isinstance(json_type, list) else json_type
    if json_type == "boolean":
        return {"type": "string", "enum": ["true", "false"]}
    return {**schema, "type": json_type}


def _filter_schema(spec) -> dict:
    value = _query_value(spec)
    operators = {op: {"type": "string"} if op == "in" else value for op in spec.operators}
    return {
        "description": f"filter[name]=v, or filter[name][op]=v with op one of "
        f"{', '.join(spec.operators)}; in takes comma-separated values",
        "anyOf": [
            value,
            {
                "type": "object",
                "properties": operators,
                "additionalProperties": False,
                "minProperties": 1,
            },
        ],
    }


def _list_parameters(resource: Resource, filters: dict[str, str]) -> list[dict]:
    filterable = {
        name: _filter_schema(spec) for name, spec in resource.fields.items() if spec.filterable
    }
    if hasattr(resource.model, "deleted_at"):
        filterable["trashed"] = {
            "description": "the event's team only: rows in the trash (only) or all (with)",
            "type": "string",
            "enum": ["only", "with", "without"],
        }
    for name, description in filters.items():
        filterable[name] = {"type": "string", "description": description}
    sortable = [name for name, spec in resource.fields.items() if spec.sortable]
    return [
        {
            "name": "filter",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "schema": {"type": "object", "properties": filterable, "additionalProperties": False},
        },
        {
            "name": "sort",
            "in": "query",
            "description": f"comma-separated, '-' for descending: {', '.join(sortable)}",
            "schema": {"type": "string", "pattern": _names_pattern(sortable, prefix="-?")},
        },
        {
            "name": "page",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "schema": {
                "type": "object",
                "properties": {
                    "number": {"type": "integer", "minimum": 1, "default": 1},
                    "size": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_PAGE_SIZE,
                        "default": DEFAULT_PAGE_SIZE,
                    },
                },
                "additionalProperties": False,
            },
        },
        *_document_parameters(resource),
    ]


def _document_parameters(resource: Resource) -> list[dict]:
    fieldsets = {
        type_: {
            "type": "string",
            "pattern": _names_pattern([*other.fields, *other.relationships]),
        }
        for type_, other in sorted(RESOURCES.items())
    }
    parameters = [
        {
            "name": "fields",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "description": "sparse fieldsets: fields[type]=a,b",
            "schema": {"type": "object", "properties": fieldsets, "additionalProperties": False},
        }
    ]
    if resource.relationships:
        parameters.append(
            {
                "name": "include",
                "in": "query",
                "description": "related resources to include: " + ", ".join(resource.relationships),
                "schema": {"type": "string", "pattern": _names_pattern(resource.relationships)},
            }
        )
    return parameters


def _content(schema: dict, content_type: str = MEDIA_TYPE) -> dict:
    return {content_type: {"schema": schema}}


def _error_statuses(
    op: Operation | None,
    kind: str,
    resource: Resource | None,
    *,
    path_parameters: list[str],
    permission: str | None,
    event_linked: bool,
    body_type: str | None,
) -> set[str]:
    """The error statuses an operation really answers, from what its route does."""
    # Any route: a malformed URL or query string (400); a token that is unknown, revoked or
    # expired, or none where one is needed (401); the database busy or behind the code (503).
    statuses = {"400", "401", "503"}
    # A row named in the path, or an event named in the body, may not exist or be hidden.
    if path_parameters or event_linked:
        statuses.add("404")
    # A permission beyond seeing the event refuses the callers without it (those who may not
    # see the event at all get 404). A create that names its event checks the permission
    # on that event itself.
    if (permission is not None and permission != Permission.VIEW) or event_linked:
        statuses.add("403")
    # The server chooses ids: a create that sends data.id is refused.
    if kind == "create":
        statuses.add("403")
    # filter[trashed] is for the event's team only; anyone else is told there is no trash
    # (openevent.api.crud.trashed_condition).
    if kind == "list" and resource is not None and hasattr(resource.model, "deleted_at"):
        statuses.add("404")
    if body_type is not None:
        statuses |= {"413", "415", "422"}
        if body_type == MEDIA_TYPE:
            # A data.type or data.id that does not match the URL; a unique value taken.
            statuses.add("409")
    if op is not None:
        statuses |= set(op.errors)
    return statuses


def _operation(
    method: str,
    op: Operation | None,
    view,
    route_name: str,
    route_pattern: str,
    permission: str | None,
    schemas: dict[str, dict],
) -> dict:
    doc = (getattr(view, "__doc__", None) or "").strip().splitlines()
    summary = (op and op.summary) or (doc[0] if doc else f"{method} {route_pattern}")
    kind = op.kind if op else "custom"
    resource = RESOURCES.get(op.resource) if op and op.resource else None
    operation: dict = {
        "operationId": f"{route_name}.{method.lower()}",
        "summary": summary,
        "responses": {},
    }
    if resource is not None:
        operation["tags"] = [resource.type]
    path_parameters = re.findall(r"{(\w+)}", route_pattern)
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _ID_SCHEMA if _ID_PARAMETER.match(name) else {"type": "string"},
        }
        for name in path_parameters
    ]
    if op is not None and op.parameters is not None:
        parameters += list(op.parameters)
    elif resource is not None and kind == "list":
        parameters += _list_parameters(resource, op.filters)
    elif resource is not None and kind in ("read", "update"):
        parameters += _document_parameters(resource)
    if parameters:
        operation["parameters"] = parameters

    # A create through a collection route of an event's rows names the event in its body.
    event_linked = (
        kind == "create"
        and resource is not None
        and resource.event_attr is not None
        and not path_parameters
    )
    request_schema = op.request_schema if op else None
    if resource is not None and kind in ("create", "update"):
        name = f"{resource.type}.{kind}-request"
        schemas[name] = _request_schema(
            resource,
            creating=kind == "create",
            event_linked=event_linked,
            write_only=op.write_only,
        )
        request_schema = _ref(name)
    content_type = op.content_type if op else MEDIA_TYPE
    body_type = content_type if request_schema is not None else None
    if request_schema is not None:
        operation["requestBody"] = {
            "required": True,
            "content": _content(request_schema, content_type),
        }
    elif op is not None and op.request_content:
        operation["requestBody"] = {
            "required": True,
            "content": {media: {"schema": schema} for media, schema in op.request_content.items()},
        }
        body_type = next(iter(op.request_content))

    status = (op and op.status) or _STATUS.get(kind, "200")
    if status == "204":
        operation["responses"]["204"] = {"description": "Done; no content"}
    else:
        schema = op.response_schema if op and op.response_schema else {"type": "object"}
        if resource is not None and kind in ("read", "create", "update"):
            schema = _ref(f"{resource.type}.document")
        elif resource is not None and kind == "list":
            schema = _ref(f"{resource.type}.collection")
        operation["responses"][status] = {
            "description": "Success",
            "content": _content(schema, content_type),
        }
    for code, description in (op.responses if op else {}).items():
        operation["responses"][code] = {"description": description}
    errors = _error_statuses(
        op,
        kind,
        resource,
        path_parameters=path_parameters,
        permission=permission,
        event_linked=event_linked,
        body_type=body_type,
    )
    for code in sorted(errors):
        operation["responses"][code] = {"$ref": f"#/components/responses/error-{code}"}
    return operation


def build_document(registry) -> dict:
    """The OpenAPI document for every /v1 route registered in ``registry``."""
    introspector = registry.introspector
    routes = {
        r["introspectable"]["name"]: r["introspectable"]
        for r in introspector.get_category("routes")
    }
    paths: dict[str, dict] = {}
    schemas = {"error-document": _ERROR_DOCUMENT}
    for resource in sorted(RESOURCES.values(), key=lambda r: r.type):
        schemas.update(_resource_schemas(resource))
    for item in introspector.get_category("views"):
        view = item["introspectable"]
        route = routes.get(view["route_name"])
        if route is None or not route["pattern"].lstrip("/").startswith("v1/"):
            continue
        pattern = "/" + route["pattern"].lstrip("/")
        permissions = [r["value"] for r in item["related"] if r.category_name == "permissions"]
        methods = view["request_methods"] or ("GET",)
        for method in [methods] if isinstance(methods, str) else methods:
            if method == "HEAD":
                continue
            op = getattr(view["callable"], "__openapi__", None)
            paths.setdefault(pattern, {})[method.lower()] = _operation(
                method,
                op,
                view["callable"],
                route["name"],
                pattern,
                permissions[0] if permissions else None,
                schemas,
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "openevent API",
            "version": __version__,
            "description": "JSON:API 1.1 for events, sessions, speakers and tickets. "
            "Send Authorization: Bearer <token> (from POST /v1/auth/login) to write. "
            "Every error is a JSON:API error document; a method a path does not take answers "
            "405 with Allow, and a 500 is a bug.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "responses": {
                f"error-{code}": {
                    "description": title,
                    **({"headers": _ERROR_HEADERS[code]} if code in _ERROR_HEADERS else {}),
                    "content": _content(_ref("error-document")),
                }
                for code, title in _ERROR_TITLES.items()
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"bearer": []}],
    }


def openapi_view(request):
    """The OpenAPI 3.1 document of this API."""
    request.response.content_type = "application/json"
    document = request.registry.get("openapi_document")
    if document is None:
        document = request.registry["openapi_document"] = build_document(request.registry)
    return document


def includeme(config):
    config.add_route("openapi", "/openapi.json")
    config.add_view(
        describe(openapi_view, "custom", content_type="application/json", parameters=()),
        route_name="openapi",
        request_method="GET",
        renderer="json",
    )
