"""JSON:API errors: exceptions raised by API code, and the views that render every failure.

Views raise :class:`APIError` subclasses; anything else that escapes (Pyramid's own 404 and 403,
integrity errors, bugs) is turned into the same error document by the exception views here.
"""

import logging

from pyramid.httpexceptions import HTTPException
from pyramid_retry import mark_error_retryable
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

log = logging.getLogger(__name__)

JSONAPI = {"version": "1.1"}


class APIError(Exception):
    """An error answered with a JSON:API error document."""

    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, pointer=None, parameter=None, code=None, headers=None):
        super().__init__(detail)
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        self.headers = headers or {}
        if code:
            self.code = code

    def error_objects(self) -> list[dict]:
        error = {"status": str(self.status), "code": self.code, "title": self.title}
        error["detail"] = self.detail
        if self.pointer is not None:
            error["source"] = {"pointer": self.pointer}
        elif self.parameter is not None:
            error["source"] = {"parameter": self.parameter}
        return [error]


class BadRequest(APIError):
    status, code, title = 400, "bad-request", "Bad request"


class Unauthorized(APIError):
    status, code, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail, **kw):
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="openevent"'})
        super().__init__(detail, **kw)


class Forbidden(APIError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(APIError):
    status, code, title = 404, "not-found", "Not found"


class MethodNotAllowed(APIError):
    status, code, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(APIError):
    status, code, title = 409, "conflict", "Conflict"


class PayloadTooLarge(APIError):
    status, code, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(APIError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(APIError):
    status, code, title = 422, "invalid", "Invalid value"


class ValidationFailed(APIError):
    """Several invalid values at once, each with its own pointer."""

    status, code, title = 422, "invalid", "Invalid value"

    def __init__(self, errors: list[Unprocessable]):
        super().__init__("; ".join(e.detail for e in errors))
        self.errors = errors

    def error_objects(self) -> list[dict]:
        return [obj for error in self.errors for obj in error.error_objects()]


def error_document(request, error: APIError) -> dict:
    """Set the response status and headers for ``error`` and return its document."""
    response = request.response
    response.status_int = error.status
    response.headers.update(error.headers)
    return {"errors": error.error_objects(), "jsonapi": JSONAPI}


def api_error_view(exc, request):
    return error_document(request, exc)


def http_exception_view(exc: HTTPException, request):
    """Pyramid's own HTTP exceptions (404 for an unknown URL, 405, ...) as JSON:API errors."""
    if exc.code == 404:
        allowed = request.registry["api_allowed_methods"].get(
            request.matched_route.name if request.matched_route else None
        )
        if allowed and request.method not in allowed:
            error = MethodNotAllowed(
                f"{request.method} is not allowed here; use {', '.join(sorted(allowed))}",
                headers={"Allow": ", ".join(sorted(allowed))},
            )
            return error_document(request, error)
        return error_document(request, NotFound(f"nothing at {request.path}"))
    error = APIError(exc.explanation or exc.title)
    error.status, error.code, error.title = exc.code, exc.title.lower().replace(" ", "-"), exc.title
    return error_document(request, error)


def integrity_error_view(exc: IntegrityError, request):
    """A constraint the checks before the write did not foresee: a conflict, never a 500."""
    log.info("integrity error answered with 409: %s", exc.orig)
    return error_document(
        request, Conflict("the change conflicts with existing data (a unique or other constraint)")
    )


class ServiceUnavailable(APIError):
    status, code, title = 503, "busy", "Service unavailable"


def _database_busy(exc) -> bool:
    """SQLite's "database is locked": the request waited for the write lock longer than the busy
    timeout (another writer held it too long; see :mod:`openevent.db.sqlite`)."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def _connection_lost(exc) -> bool:
    """A pooled connection that died in use (the database restarted): the pool replaces it."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def unexpected_error_view(exc, request):
    if _database_busy(exc) or _connection_lost(exc):
        # Transient: pyramid_retry replays the request (this response is discarded) unless it
        # was the last attempt. zope.sqlalchemy only knows PostgreSQL's transient errors (not a
        # lost connection: see openevent.db.session.ping_idle_connections).
        mark_error_retryable(exc)
        log.warning("database busy on %s %s", request.method, request.path)
        busy = ServiceUnavailable(
            "the database is busy; try again in a moment", headers={"Retry-After": "1"}
        )
        return error_document(request, busy)
    log.exception("unexpected error on %s %s", request.method, request.path)
    error = APIError("an unexpected error occurred; it has been logged")
    error.status, error.code, error.title = 500, "internal-error", "Internal server error"
    return error_document(request, error)
