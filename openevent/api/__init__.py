"""The JSON:API under /v1: renderer, error views, and the resource modules."""

import orjson
from pyramid.httpexceptions import HTTPException
from sqlalchemy.exc import IntegrityError

from openevent.api.contexts import denial
from openevent.api.documents import MEDIA_TYPE
from openevent.api.errors import (
    APIError,
    Unauthorized,
    api_error_view,
    error_document,
    http_exception_view,
    integrity_error_view,
    unexpected_error_view,
)
from openevent.security import InvalidToken

API_PATH = r"^/v1(/|$)"


def _jsonapi_renderer(info):
    def render(value, system):
        request = system.get("request")
        if request is not None:
            request.response.content_type = MEDIA_TYPE
        return orjson.dumps(value)

    return render


def _forbidden_view(exc, request):
    return error_document(request, denial(request, request.context))


def _invalid_token_view(exc, request):
    return error_document(request, Unauthorized(str(exc)))


def _allowed_methods(config) -> dict:
    """route name -> the methods its views accept, for 405 answers."""
    allowed: dict[str, set[str]] = {}
    for item in config.registry.introspector.get_category("views"):
        view = item["introspectable"]
        route = view["route_name"]
        if route and view["request_methods"]:
            methods = view["request_methods"]
            allowed.setdefault(route, set()).update(
                [methods] if isinstance(methods, str) else methods
            )
    return allowed


def includeme(config):
    config.add_renderer("jsonapi", _jsonapi_renderer)
    error_views = [
        (api_error_view, APIError),
        (_invalid_token_view, InvalidToken),
        (integrity_error_view, IntegrityError),
        (http_exception_view, HTTPException),
        (unexpected_error_view, Exception),
    ]
    for view, context in error_views:
        config.add_exception_view(view, context=context, renderer="jsonapi", path_info=API_PATH)
    # Registered after the generic HTTPException view so that it takes precedence for 403.
    config.add_forbidden_view(_forbidden_view, renderer="jsonapi", path_info=API_PATH)
    config.add_notfound_view(http_exception_view, renderer="jsonapi", path_info=API_PATH)

    with config.route_prefix_context("/v1"):
        config.include(".auth")
        # Before .events: POST /v1/events/import names no event.
        config.include(".imports")
        config.include(".events")
        config.include(".event_types")
        config.include(".languages")
        config.include(".tickets")
        config.include(".program")
        config.include(".sponsors")
        config.include(".event_plugins")
        # Last: it describes the routes above.
        config.include(".openapi")

    def _record_allowed_methods():
        config.registry["api_allowed_methods"] = _allowed_methods(config)

    # Runs after every view is registered, so the introspector knows them all.
    config.action(None, _record_allowed_methods, order=10)
