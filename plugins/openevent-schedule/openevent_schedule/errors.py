"""Error pages of the site's paths, in HTML: the API's JSON:API error views cover /v1 only.

A missing page, a draft, an event the site is turned off for (openevent's per-event switch
raises the API's ``NotFound``) are all the same 404 page, so nothing tells them apart; a bad
query parameter is a 400 saying which; anything unexpected is logged and a 500 page.
"""

import logging
from datetime import UTC

from pyramid.httpexceptions import HTTPException
from pyramid.renderers import render_to_response

from openevent.api.plugin import APIError
from openevent_schedule.i18n import LANGUAGES, SOURCE_LANGUAGE, Language

log = logging.getLogger(__name__)

# The site's paths: its pages and its assets.
SITE_PATH = r"^/(events|assets/schedule)(/|$)"
TEMPLATE = "openevent_schedule:templates/error.jinja2"


def _language(request) -> Language:
    asked = request.GET.get("lang")
    if asked not in LANGUAGES:
        asked = request.accept_language.lookup(language_tags=LANGUAGES, default=SOURCE_LANGUAGE)
    return Language(asked, UTC)


def _error_page(request, status: int, detail: str | None):
    language = _language(request)
    values = {
        "lang": language,
        "gettext": language.gettext,
        "ngettext": language.ngettext,
        "_": language.gettext,
        "status": status,
        "detail": detail,
    }
    response = render_to_response(TEMPLATE, values, request=request)
    response.status_int = status
    response.cache_control = "no-cache"
    return response


def http_error(exc: HTTPException, request):
    # 404s say nothing more: whether an event exists, is a draft or has the site off.
    detail = exc.detail if exc.code == 400 else None
    response = _error_page(request, exc.code, detail)
    if exc.code == 405:
        response.allow = ("GET", "HEAD")
    return response


def api_error(exc: APIError, request):
    return _error_page(request, exc.status, None)


def unexpected_error(exc, request):
    log.exception("unexpected error on %s %s", request.method, request.path)
    return _error_page(request, 500, None)


def includeme(config):
    for view, context in (
        (api_error, APIError),
        (http_error, HTTPException),
        (unexpected_error, Exception),
    ):
        config.add_exception_view(view, context=context, path_info=SITE_PATH)
    config.add_notfound_view(http_error, path_info=SITE_PATH)
