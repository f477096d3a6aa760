"""``GET /v1/openapi.json``: an OpenAPI 3.1 description of every route of the API.

Paths come from Pyramid's introspector, so a route cannot be forgotten: a view without a
description is still listed, with its methods and error responses. Views describe themselves
with :func:`describe` (what kind of operation, on which resource type); schemas come from the
resources' field declarations, the same ones that validate requests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openevent import __version__
from openevent.api.documents import MEDIA_TYPE
from openevent.api.query import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from openevent.api.resources import RESOURCES, Resource
from openevent.security import Permission

_STATUS = {"read": "200", "list": "200", "update": "200", "create": "201", "delete": "204"}
_WRITE_ERRORS = ("401", "403", "409", "413", "415", "422")
_ERROR_TITLES = {
    "400": "Malformed request or query parameter",
    "401": "Missing, invalid or expired token",
    "403": "The caller's role does not allow this",
    "404": "No such resource, or the caller may not see it",
    "405": "Method not allowed on this path",
    "409": "Conflicts with existing data",
    "413": "Body too large",
    "415": "Body is not application/vnd.api+json",
    "422": "Invalid attribute or relationship (source.pointer names it)",
    "500": "Unexpected error",
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


def describe(view, kind: str, resource: str | None = None, **details):
    """Attach an :class:`Operation` to ``view`` and return the view."""
    view.__openapi__ = Operation(kind, resource, **details)
    return view


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _resource_schemas(resource: Resource) -> dict[str, dict]:
    t = resource.type
    attributes = {name: spec.schema() for name, spec in resource.fields.items()}
    required = [name for name, spec in resource.fields.items() if spec.required]
    identifier = lambda target: {  # noqa: E731
        "type": "object",
        "required": ["type", "id"],
        "properties": {"type": {"const": target}, "id": {"type": "string"}},
    }
    relationships = {
        name: {
            "type": "object",
            "properties": {
                "data": {"type": "array", "items": identifier(rel.type)}
                if rel.many
                else {"oneOf": [identifier(rel.type), {"type": "null"}]}
            },
        }
        for name, rel in resource.relationships.items()
    }
    resource_object = {
        "type": "object",
        "required": ["type", "id", "attributes"],
        "properties": {
            "type": {"const": t},
            "id": {"type": "string"},
            "attributes": _ref(f"{t}.attributes"),
            "relationships": {"type": "object", "properties": relationships},
            "links": {"type": "object"},
        },
    }
    writable = {n: s for n, s in attributes.items() if not s.get("readOnly")}
    return {
        f"{t}.attributes": {"type": "object", "properties": attributes},
        f"{t}": resource_object,
        f"{t}.document": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": _ref(t),
                "included": {"type": "array", "items": {"type": "object"}},
                "links": {"type": "object"},
                "jsonapi": {"type": "object"},
            },
        },
        f"{t}.collection": {
            "type": "object",
            "required": ["data", "meta", "links"],
            "properties": {
                "data": {"type": "array", "items": _ref(t)},
                "included": {"type": "array", "items": {"type": "object"}},
                "links": {"type": "object"},
                "meta": {"type": "object", "properties": {"count": {"type": "integer"}}},
                "jsonapi": {"type": "object"},
            },
        },
        f"{t}.request": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {
                        "type": {"const": t},
                        "id": {"type": "string"},
                        "attributes": {
                            "type": "object",
                            "properties": writable,
                            **({"required": required} if required else {}),
                        },
                        "relationships": {"type": "object", "properties": relationships},
                    },
                }
            },
        },
    }


_ERROR_DOCUMENT = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "title"],
                "properties": {
                    "status": {"type": "string"},
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
                },
            },
        },
        "jsonapi": {"type": "object"},
    },
}


def _list_parameters(resource: Resource) -> list[dict]:
    filterable = {
        name: {
            "description": f"operators: {', '.join(spec.operators)}; "
            f"filter[{name}]=v or filter[{name}][op]=v",
            "oneOf": [{"type": "string"}, {"type": "object"}],
        }
        for name, spec in resource.fields.items()
        if spec.filterable
    }
    sortable = [name for name, spec in resource.fields.items() if spec.sortable]
    return [
        {
            "name": "filter",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "schema": {"type": "object", "properties": filterable},
        },
        {
            "name": "sort",
            "in": "query",
            "description": f"comma-separated, '-' for descending: {', '.join(sortable)}",
            "schema": {"type": "string"},
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
            },
        },
        *_document_parameters(resource),
    ]


def _document_parameters(resource: Resource) -> list[dict]:
    return [
        {
            "name": "fields",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "description": "sparse fieldsets: fields[type]=a,b",
            "schema": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        {
            "name": "include",
            "in": "query",
            "description": "related resources to include: "
            + (", ".join(resource.relationships) or "none"),
            "schema": {"type": "string"},
        },
    ]


def _content(schema: dict, content_type: str = MEDIA_TYPE) -> dict:
    return {content_type: {"schema": schema}}


def _operation(
    method: str, op: Operation | None, view, route_pattern: str, permission: str | None = None
) -> dict:
    doc = (getattr(view, "__doc__", None) or "").strip().splitlines()
    summary = (op and op.summary) or (doc[0] if doc else f"{method} {route_pattern}")
    kind = op.kind if op else "custom"
    resource = RESOURCES.get(op.resource) if op and op.resource else None
    operation: dict = {"summary": summary, "responses": {}}
    if resource is not None:
        operation["tags"] = [resource.type]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", route_pattern)
    ]
    if resource is not None and kind == "list":
        parameters += _list_parameters(resource)
    elif resource is not None and kind in ("read", "create", "update"):
        parameters += _document_parameters(resource)
    elif kind == "delete":
        parameters.append(
            {
                "name": "permanent",
                "in": "query",
                "description": "true removes the row for good instead of moving it to the trash",
                "schema": {"type": "boolean", "default": False},
            }
        )
    if parameters:
        operation["parameters"] = parameters

    request_schema = op.request_schema if op else None
    if resource is not None and kind in ("create", "update"):
        request_schema = _ref(f"{resource.type}.request")
    if request_schema is not None:
        content_type = op.content_type if op else MEDIA_TYPE
        operation["requestBody"] = {
            "required": True,
            "content": _content(request_schema, content_type),
        }

    status = (op and op.status) or _STATUS.get(kind, "200")
    if status == "204":
        operation["responses"]["204"] = {"description": "Done; no content"}
    else:
        schema = op.response_schema if op and op.response_schema else {"type": "object"}
        if resource is not None and kind in ("read", "create", "update"):
            schema = _ref(f"{resource.type}.document")
        elif resource is not None and kind == "list":
            schema = _ref(f"{resource.type}.collection")
        content_type = op.content_type if op else MEDIA_TYPE
        operation["responses"][status] = {
            "description": "Success",
            "content": _content(schema, content_type),
        }
    errors = ["400", "404", "405", "500"]
    if method in ("POST", "PATCH", "PUT", "DELETE"):
        errors += _WRITE_ERRORS
    if permission not in (None, Permission.VIEW):
        # Reads that take more than seeing the event (the team's, or a plugin's permission).
        errors += ["401", "403"]
    for code in sorted(set(errors)):
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
    for item in introspector.get_category("views"):
        view = item["introspectable"]
        route = routes.get(view["route_name"])
        if route is None or not route["pattern"].lstrip("/").startswith("v1/"):
            continue
        pattern = "/" + route["pattern"].lstrip("/")
        permission = next(
            (r["value"] for r in item["related"] if r.category_name == "permissions"), None
        )
        methods = view["request_methods"] or ("GET",)
        for method in [methods] if isinstance(methods, str) else methods:
            if method == "HEAD":
                continue
            op = getattr(view["callable"], "__openapi__", None)
            paths.setdefault(pattern, {})[method.lower()] = _operation(
                method, op, view["callable"], pattern, permission
            )
    schemas = {"error-document": _ERROR_DOCUMENT}
    for resource in sorted(RESOURCES.values(), key=lambda r: r.type):
        schemas.update(_resource_schemas(resource))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "openevent API",
            "version": __version__,
            "description": "JSON:API 1.1 for events, sessions, speakers and tickets. "
            "Send Authorization: Bearer <token> (from POST /v1/auth/login) to write.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "responses": {
                f"error-{code}": {
                    "description": title,
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
        describe(openapi_view, "custom", content_type="application/json"),
        route_name="openapi",
        request_method="GET",
        renderer="json",
    )
