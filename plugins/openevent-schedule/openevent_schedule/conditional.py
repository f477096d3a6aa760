"""ETags of the site's pages, so that a reload of an unchanged page is a 304.

Where the versions plugin keeps the event's counters (installed, active, on for the event),
the tag is computed before rendering, from everything a page is made of: the counters (the
event, its sessions, speakers, tracks and rooms), the page's URL and language, the site's own
files (code, templates, catalogs, assets), which feeds are offered, and during the event the
minute ("now and next" moves with the clock). A matching ``If-None-Match`` is answered
without reading the program or rendering anything. Elsewhere the tag is a hash of the
rendered page: the browser still gets its 304, the server still renders.

Counters move when the versions plugin's job has run after a change: for those moments a
reload may still be answered 304 with the page from before the change.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path

from pyramid.httpexceptions import HTTPNotModified

from openevent_schedule import neighbours
from openevent_schedule.i18n import choose_language

_PACKAGE = Path(__file__).parent


def _files_digest() -> str:
    """A digest of the plugin's code, templates, compiled catalogs and assets: a deploy that
    changes any of them changes every tag (and every asset URL)."""
    digest = hashlib.sha256()
    folders = ((".", "*.py"), ("templates", "*.jinja2"), ("locale", "*/*/*.mo"), ("static", "*"))
    for folder, pattern in folders:
        for path in sorted((_PACKAGE / folder).glob(pattern)):
            digest.update(path.relative_to(_PACKAGE).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


FILES_DIGEST = _files_digest()


def _tag(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def event_running(event, now: datetime) -> bool:
    return event.starts_at <= now < event.ends_at


def conditional(view):
    """View decorator (``add_view(decorator=...)``): ETag and 304 for a page of an event."""

    @wraps(view)
    def tagged(context, request):
        event = context.event
        counters = neighbours.counters(request, event)
        tag = None
        if counters is not None:
            now = datetime.now(UTC)
            minute = now.strftime("%Y-%m-%dT%H:%M") if event_running(event, now) else None
            tag = _tag(
                FILES_DIGEST,
                request.path_qs,
                choose_language(request),
                sorted(counters.items()),
                neighbours.acts_for(request, "exports", event),
                minute,
            )
            if tag in request.if_none_match:
                return _not_modified(tag)
        response = view(context, request)
        if response.status_code != 200:
            return response
        if tag is None:
            tag = _tag(response.body)
            if tag in request.if_none_match:
                return _not_modified(tag)
        response.etag = tag
        _cache_headers(response)
        return response

    return tagged


def _cache_headers(response) -> None:
    # Kept, but asked for again (cheaply, with If-None-Match) each time it is shown.
    response.cache_control = "no-cache"
    response.vary = ("Accept-Language",)


def _not_modified(tag: str) -> HTTPNotModified:
    response = HTTPNotModified(etag=tag)
    _cache_headers(response)
    return response
