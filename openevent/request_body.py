"""Requests refused before Pyramid reads them: oversized bodies, and URLs that are not UTF-8.

pyramid_retry copies each request body so it can replay the request, before any tween or view
runs. Without a guard in front of it, a client could make every process spool a huge upload
before the API's size check; and WebOb spools copies over 10 KB (and a form's files) into
temporary files that nobody closes: they are closed here once the request is done. A body
without a length (chunked, under a server that passes it on as a stream) is read here up to
the limit and no further.

The limit is ``openevent.api.max_body_bytes`` (1 MiB: JSON documents), except on routes that
declare their own with the config directive ``config.add_route_body_limit(route_name,
max_bytes)`` (uploads). Only a body larger than the default costs a route match here, and a
body over a route's limit is refused before anything reads it, as any other.

Pyramid decodes the path and the query string as UTF-8 when it first needs them, and a byte
sequence that does not decode (``/v1/events/%ff``) would fail there, in the error views too. So
the URL is checked here, as are control characters in the query string, which no parameter
takes (PostgreSQL would refuse a NUL in a filter value; SQLite would not).
"""

from io import BytesIO
from urllib.parse import unquote_to_bytes

import orjson
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import IExecutionPolicy, IRoutesMapper
from pyramid.request import Request
from pyramid.router import default_execution_policy
from webob import Response

from openevent.api.documents import MEDIA_TYPE
from openevent.api.errors import JSONAPI, APIError, BadRequest, PayloadTooLarge
from openevent.api.fields import Invalid, check_text


def _error_response(error: APIError) -> Response:
    body = orjson.dumps({"errors": error.error_objects(), "jsonapi": JSONAPI})
    return Response(body=body, status=error.status, content_type=MEDIA_TYPE, charset=None)


def _url_error(environ) -> APIError | None:
    """What is wrong with the request's path or query string, if anything."""
    # PEP 3333: both arrive as Latin-1 text, the path percent-decoded, the query not.
    try:
        environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        return BadRequest("the path is not UTF-8 once percent-decoded")
    try:
        query = environ.get("QUERY_STRING", "").encode("latin-1").replace(b"+", b" ")
        # Split as WebOb does, so that an error names the parameter a view would see.
        for pair in query.replace(b";", b"&").split(b"&"):
            raw_key, _, raw_value = pair.partition(b"=")
            key = unquote_to_bytes(raw_key).decode("utf-8")
            try:
                check_text(key)
                check_text(unquote_to_bytes(raw_value).decode("utf-8"))
            except Invalid as exc:
                return BadRequest(f"query parameters {exc}", parameter=key)
    except UnicodeError:
        return BadRequest("the query string is not UTF-8 once percent-decoded")
    return None


def _read_unsized_body(environ, limit: int) -> bool:
    """Read a body of unknown length, up to ``limit`` bytes; False if it is longer.

    WebOb reads such a body (``wsgi.input_terminated``) to its end; read here, it is bounded and
    then looks like any body with a Content-Length.
    """
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        return False
    environ["wsgi.input"] = BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return True


ROUTE_BODY_LIMITS_KEY = "openevent.route_body_limits"


def add_route_body_limit(config, route_name: str, max_bytes: int) -> None:
    """Config directive: bodies of up to ``max_bytes`` bytes on the route ``route_name``.

    ``config.add_route_body_limit("images.upload", 12 * 2**20)``. Every other route keeps
    ``openevent.api.max_body_bytes``. The view still checks what it reads (a file's own size
    limit, say): this limit only says how much the app accepts to receive at all. Declaring a
    second limit for the same route is a conflict at start-up, as a second route of one name.
    The server in front (waitress's ``max_request_body_size`` in the ini files) must let bodies
    of that size through too.
    """
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes <= 0:
        raise ConfigurationError(
            f"the body limit of route {route_name!r} must be a positive number of bytes"
        )

    def register():
        config.registry[ROUTE_BODY_LIMITS_KEY][route_name] = max_bytes

    introspectable = config.introspectable(
        "route body limits", route_name, f"{route_name}: {max_bytes} bytes", "route body limit"
    )
    introspectable["max_bytes"] = max_bytes
    config.action(
        ("openevent.route-body-limit", route_name), register, introspectables=[introspectable]
    )


def _route_limit(environ, registry, default: int) -> int:
    """The body limit of the route the request goes to (``default`` for most routes)."""
    limits = registry[ROUTE_BODY_LIMITS_KEY]
    if not limits:
        return default
    # The router matches the route again later; matching is a few regular expressions, and
    # only bodies larger than the default (or of unknown length) get here.
    request = Request(environ)
    request.registry = registry
    route = registry.getUtility(IRoutesMapper)(request)["route"]
    return limits.get(route.name, default) if route is not None else default


def _close_form_files(environ) -> None:
    """Close the temporary files WebOb made for a form's file fields (``request.POST``):
    nothing else does, and the request that holds them is only freed by the garbage
    collector (Pyramid's requests hold reference cycles), whenever it runs."""
    parsed = environ.get("webob._parsed_post_vars")
    if parsed is None:
        return
    for value in parsed[0].values():
        file = getattr(value, "file", None)
        if file is not None:
            file.close()


def _guarded(policy, default: int):
    def execution_policy(environ, router):
        if error := _url_error(environ):
            return _error_response(error)
        length = environ.get("CONTENT_LENGTH") or ""
        limit, too_large = default, False
        if length.isascii() and length.isdigit():
            # int() refuses more than 4300 digits; a length that long is too large anyway.
            declared = int(length) if len(length) < 20 else None
            if declared is not None and declared > default:
                limit = _route_limit(environ, router.registry, default)
            too_large = declared is None or declared > limit
        elif not length and environ.get("wsgi.input_terminated"):
            limit = _route_limit(environ, router.registry, default)
            too_large = not _read_unsized_body(environ, limit)
        if too_large:
            return _error_response(PayloadTooLarge(f"the body is larger than {limit} bytes"))
        received = environ.get("wsgi.input")
        try:
            return policy(environ, router)
        finally:
            # A body over the default limit (a route's own) was copied to a temporary file to
            # be replayed; the request is done with it.
            copied = environ.get("wsgi.input")
            if copied is not received and hasattr(copied, "close"):
                copied.close()
            _close_form_files(environ)

    return execution_policy


def includeme(config):
    limit = config.get_settings()["openevent.api.max_body_bytes"]
    config.registry[ROUTE_BODY_LIMITS_KEY] = {}
    config.add_directive("add_route_body_limit", add_route_body_limit)
    # Bodies over the default limit are spooled to a temporary file rather than kept in memory.
    config.set_request_factory(type("Request", (Request,), {"request_body_tempfile_limit": limit}))

    def wrap_execution_policy():
        registry = config.registry
        policy = registry.queryUtility(IExecutionPolicy, default=default_execution_policy)
        registry.registerUtility(_guarded(policy, limit), IExecutionPolicy)

    # After pyramid_retry has set its policy (an action of its own, in an earlier phase).
    config.action(None, wrap_execution_policy, order=10)
