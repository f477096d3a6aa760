"""Reading JSON:API request documents: media type, size, JSON syntax and shape."""

import orjson

from openevent.api.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    PayloadTooLarge,
    UnsupportedMediaType,
)

MEDIA_TYPE = "application/vnd.api+json"


def read_json(request, media_types=(MEDIA_TYPE,)) -> object:
    """The request body parsed as JSON, after checking its media type and size."""
    if request.content_type not in media_types:
        raise UnsupportedMediaType(
            f"send the body as {' or '.join(media_types)}, not {request.content_type or 'nothing'}"
        )
    if request.content_type == MEDIA_TYPE:
        # JSON:API 1.1 allows only the ext and profile media type parameters.
        params = _media_type_parameters(request.headers.get("Content-Type", ""))
        if set(params) - {"ext", "profile"}:
            raise UnsupportedMediaType(
                f"{MEDIA_TYPE} takes no media type parameters other than ext and profile"
            )
    limit = request.registry.settings["openevent.api.max_body_bytes"]
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    body = request.body
    if len(body) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None


def _media_type_parameters(header: str) -> dict[str, str]:
    params = {}
    for part in header.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip():
            params[name.strip().lower()] = value.strip()
    return params


def read_resource_object(request, expected_type: str, *, with_id: str | None = None) -> dict:
    """The ``data`` resource object of a JSON:API request, checked for type and id.

    With ``with_id`` the document updates that resource, and ``data.id`` must be that id.
    Without, it creates one: the server makes ids, and JSON:API answers a client-generated id
    with 403 Forbidden.
    """
    document = read_json(request)
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise BadRequest("the body must be a JSON:API document with a data object", pointer="/data")
    data = document["data"]
    # JSON:API answers a type or id that does not match the endpoint with 409 Conflict.
    if not isinstance(data.get("type"), str):
        raise BadRequest("data.type is required", pointer="/data/type")
    if data["type"] != expected_type:
        raise Conflict(f"data.type must be {expected_type!r} here", pointer="/data/type")
    if with_id is None and "id" in data:
        raise Forbidden(
            "ids are chosen by the server: leave data.id out to create a resource",
            pointer="/data/id",
        )
    if with_id is not None:
        if not isinstance(data.get("id"), str):
            raise BadRequest("data.id is required, as a string", pointer="/data/id")
        if data["id"] != with_id:
            raise Conflict(f"data.id must be {with_id!r}, the id in the URL", pointer="/data/id")
    for member in ("attributes", "relationships"):
        if not isinstance(data.get(member, {}), dict):
            raise BadRequest(f"data.{member} must be an object", pointer=f"/data/{member}")
    return data
