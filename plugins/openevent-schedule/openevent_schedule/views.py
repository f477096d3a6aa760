"""The site's pages: the event, its schedule, a session (and its .ics), the speakers.

Each view reads what its page shows (see :mod:`openevent_schedule.program`) and returns the
template's values through :func:`page`, which adds the page's language and links. The routes
are the plugin's, outside /v1 (:func:`openevent.plugins.site_routes`): openevent answers 404 by
itself for events whose organizers turned the site off.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pyramid.httpexceptions import HTTPBadRequest, HTTPMovedPermanently, HTTPNotFound
from pyramid.response import Response
from pyramid.static import QueryStringConstantCacheBuster

from openevent.plugins import site_routes
from openevent_schedule import neighbours, program, timetable
from openevent_schedule.calendar import ics_of_session
from openevent_schedule.conditional import FILES_DIGEST, conditional, event_running
from openevent_schedule.contexts import SiteEvent
from openevent_schedule.i18n import Language, choose_language, language_names

TEMPLATES = "openevent_schedule:templates/"
ASSETS = "openevent_schedule:static/"
ASSET_MAX_AGE = 365 * 24 * 3600  # asset URLs change with their content (the cache buster)


def page(request, event, current: str, **values) -> dict:
    """The values every page's template gets, with ``values``."""
    language = Language(choose_language(request), event.tzinfo)
    keep = {"lang": request.GET["lang"]} if "lang" in request.GET else {}

    def url(route: str, **parts) -> str:
        """A link to another page of the site, in the language this one was asked in."""
        query = parts.pop("_query", {})
        return request.route_path(
            route, identifier=event.identifier, **parts, _query={**query, **keep}
        )

    def switch(code: str) -> str:
        """This page in language ``code``."""
        return request.current_route_path(_query={**request.GET, "lang": code})

    return {
        "event": event,
        "lang": language,
        "gettext": language.gettext,
        "ngettext": language.ngettext,
        "_": language.gettext,
        "languages": language_names(),
        "url": url,
        "switch": switch,
        "asset": lambda name: request.static_path(ASSETS + name),
        "current": current,
        "feeds": neighbours.feeds(request, event),
        "public_speakers": program.public_speakers,
        "biography": program.biography,
        **values,
    }


def _running(event, sessions) -> dict:
    now = datetime.now(UTC)
    if not event_running(event, now):
        return {"running": None}
    now_sessions, next_sessions = timetable.now_and_next(sessions, now)
    return {"running": {"now": now_sessions, "next": next_sessions}}


def event_page(context, request):
    event = context.event
    loaded = program.load_program(request.dbsession, event)
    return page(request, event, "event", **_running(event, loaded.scheduled))


def _one_of(request, name: str, allowed: dict):
    """The value the query parameter ``name`` names among ``allowed``; 400 otherwise."""
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return None
    if raw not in allowed:
        raise HTTPBadRequest(f"{name} must be one of: {', '.join(allowed)}")
    return allowed[raw]


def schedule_page(context, request):
    event = context.event
    loaded = program.load_program(request.dbsession, event)
    tz = event.tzinfo
    view = _one_of(request, "view", {"grid": "grid", "list": "list"}) or "grid"
    track = _one_of(request, "track", {str(t.id): t for t in loaded.tracks})
    scheduled = loaded.scheduled
    days_of_event = sorted({timetable.local_day(s, tz) for s in scheduled})
    day = _one_of(request, "day", {d.isoformat(): d for d in days_of_event})
    shown = [
        s
        for s in scheduled
        if (track is None or s.track_id == track.id)
        and (day is None or timetable.local_day(s, tz) == day)
    ]
    return page(
        request,
        event,
        "schedule",
        tracks=loaded.tracks,
        track=track,
        view=view,
        day=day,
        event_days=days_of_event,
        days=timetable.build_days(shown, loaded.rooms, tz),
        **_running(event, shown),
    )


def _session_or_404(request, event):
    session = program.load_session(request.dbsession, event, int(request.matchdict["id"]))
    if session is None:
        raise HTTPNotFound("no such session")
    return session


def session_page(context, request):
    event = context.event
    session = _session_or_404(request, event)
    return page(request, event, "schedule", session=session)


def session_calendar(context, request):
    event = context.event
    session = _session_or_404(request, event)
    if session.starts_at is None or session.ends_at is None:
        raise HTTPNotFound("the session has no time yet")
    url = request.route_url("schedule.session", identifier=event.identifier, id=session.id)
    body = ics_of_session(session, url, request.host.split(":")[0])
    response = Response(body, content_type="text/calendar", charset="utf-8")
    response.content_disposition = f'attachment; filename="session-{session.id}.ics"'
    return response


def speakers_page(context, request):
    event = context.event
    speakers = program.load_speakers(request.dbsession, event)
    return page(request, event, "speakers", speakers=speakers)


def speaker_page(context, request):
    event = context.event
    speaker = program.load_speaker(request.dbsession, event, int(request.matchdict["id"]))
    if speaker is None:
        raise HTTPNotFound("no such speaker")
    sessions = program.public_sessions_of(speaker)
    return page(request, event, "speakers", speaker=speaker, sessions=sessions)


def add_slash(context, request):
    return HTTPMovedPermanently(location=request.route_path("schedule.event", **request.matchdict))


_PAGES = (
    ("schedule.event", "/events/{identifier}/", event_page, "event.jinja2"),
    ("schedule.schedule", "/events/{identifier}/schedule", schedule_page, "schedule.jinja2"),
    (
        "schedule.session",
        "/events/{identifier}/sessions/{id:\\d{1,18}}",
        session_page,
        "session.jinja2",
    ),
    ("schedule.speakers", "/events/{identifier}/speakers", speakers_page, "speakers.jinja2"),
    (
        "schedule.speaker",
        "/events/{identifier}/speakers/{id:\\d{1,18}}",
        speaker_page,
        "speaker.jinja2",
    ),
)


def includeme(config):
    with site_routes(config):
        config.add_static_view("assets/schedule", ASSETS, cache_max_age=ASSET_MAX_AGE)
        config.add_cache_buster(ASSETS, QueryStringConstantCacheBuster(FILES_DIGEST))
        for name, pattern, view, template in _PAGES:
            config.add_route(name, pattern, factory=SiteEvent)
            config.add_view(
                view,
                route_name=name,
                request_method=("GET", "HEAD"),
                renderer=TEMPLATES + template,
                decorator=conditional,
            )
        config.add_route(
            "schedule.session_ics",
            "/events/{identifier}/sessions/{id:\\d{1,18}}.ics",
            factory=SiteEvent,
        )
        config.add_view(
            session_calendar, route_name="schedule.session_ics", request_method=("GET", "HEAD")
        )
        config.add_route("schedule.event_bare", "/events/{identifier}", factory=SiteEvent)
        config.add_view(add_slash, route_name="schedule.event_bare", request_method=("GET", "HEAD"))
