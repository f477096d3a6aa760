"""The plugin's routes: export jobs for the event's team, and the public schedule feeds.

- ``POST /v1/events/{id}/exports`` (the team): a format and its options, checked before
  anything is written; 202 with the new ``export-job``. ``GET /v1/events/{id}/exports`` lists
  the event's exports, ``GET /v1/export-jobs/{id}`` reads one (also listed at
  ``/v1/events/{id}/export-jobs``, the standard collection): state, progress, times, size, the
  error, and a signed, expiring download link when done.
- ``GET /v1/events/{id}/schedule.ics`` (``.xcal``, ``.xml``, ``.json``): the feeds of
  published events, for anyone, with ``ETag`` and ``Last-Modified`` (304 on a match), served
  from storage as the last rebuild left them.
"""

from __future__ import annotations

import hashlib
import io

from pyramid.httpexceptions import HTTPNotModified
from pyramid.response import Response
from sqlalchemy import inspect, select

from openevent.api.plugin import (
    Computed,
    DateTime,
    EventContext,
    FieldContext,
    Integer,
    NotFound,
    Permission,
    Relationship,
    Resource,
    String,
    TeamEventContext,
    Unprocessable,
    ValidationFailed,
    add_event_scoped_resource,
    describe,
    parse_list_params,
    read_resource_object,
    register,
    render_list,
    render_one,
)
from openevent.models import EventState
from openevent.storage import ObjectNotFound
from openevent_exports.exporting import effective_state, read_progress
from openevent_exports.feeds import FEEDS, feed_key
from openevent_exports.formats import FORMATS, Writing
from openevent_exports.jobs import build_export
from openevent_exports.models import ExportJob, ExportState, FeedState
from openevent_exports.settings import export_settings
from openevent_exports.snapshot import EventNotFound, load_program

TYPE = "export-job"


def _registry(job: ExportJob):
    return inspect(job).session.info["registry"]


def _state(job: ExportJob) -> str:
    return str(effective_state(job, _registry(job))[0])


def _error(job: ExportJob) -> str | None:
    return effective_state(job, _registry(job))[1]


def _progress(job: ExportJob) -> int:
    if job.state in (ExportState.DONE, ExportState.FAILED):
        return job.progress
    report = read_progress(_registry(job)["openevent.storage"], job)
    return report["progress"] if report else 0


def _download_url(job: ExportJob) -> str | None:
    if job.state != ExportState.DONE or not job.storage_key:
        return None
    registry = _registry(job)
    try:
        return registry["openevent.storage"].url(
            job.storage_key, expires=export_settings(registry).download_expiry
        )
    except ObjectNotFound:
        return None


class ExportJobResource(Resource):
    orm_rows = True  # its computed state reads the job's session (for the app's storage)

    def default_order(self):
        return [ExportJob.created_at.desc()]


export_resource = register(
    ExportJobResource(
        type=TYPE,
        model=ExportJob,
        path="/v1/export-jobs",
        fields={
            "format": String(read_only=True, max_length=32),
            "options": Computed(lambda job: job.options, json_type="object"),
            "state": Computed(_state, description="queued, running, done or failed"),
            "progress": Computed(_progress, json_type="integer", description="0 to 100"),
            "created-at": DateTime(read_only=True),
            "started-at": DateTime(read_only=True, nullable=True),
            "finished-at": DateTime(read_only=True, nullable=True),
            "size": Integer(read_only=True, nullable=True, description="bytes"),
            "error": Computed(_error, nullable=True),
            "download-url": Computed(
                _download_url, nullable=True, description="signed, expiring; when done"
            ),
        },
        relationships={"event": Relationship("event", "event", writable=False)},
    )
)

_FORMAT_NAMES = ", ".join(FORMATS)


def _parse(request) -> tuple[str, dict]:
    data = read_resource_object(request, TYPE)
    attributes = data.get("attributes", {})
    errors = []
    for name in attributes:
        if name not in ("format", "options"):
            errors.append(
                Unprocessable(f"{name} cannot be set", pointer=f"/data/attributes/{name}")
            )
    format_name = attributes.get("format")
    if not isinstance(format_name, str) or format_name not in FORMATS:
        errors.append(
            Unprocessable(
                f"format must be one of {_FORMAT_NAMES}", pointer="/data/attributes/format"
            )
        )
    options = attributes.get("options", {})
    if not isinstance(options, dict):
        errors.append(
            Unprocessable("options must be an object", pointer="/data/attributes/options")
        )
    elif not errors:
        options, problems = FORMATS[format_name].parse_options(options)
        errors += [
            Unprocessable(detail, pointer=f"/data/attributes/options/{name}")
            for name, detail in problems.items()
        ]
    if errors:
        raise ValidationFailed(errors)
    return format_name, options


def create_export(context, request):
    """Start an export of the event: 202 and the export job, which a worker then runs."""
    format_name, options = _parse(request)
    event = context.event
    job = ExportJob(
        event=event,
        format=format_name,
        options=options,
        state=ExportState.QUEUED,
        user_id=request.authenticated_userid,
    )
    request.dbsession.add(job)
    request.dbsession.flush()
    job.message_id = request.enqueue(build_export, job.id, event_id=event.id)
    request.response.status = 202
    request.response.headers["Content-Location"] = export_resource.link(job)
    return render_one(request, export_resource, job, team=True)


def list_exports(context, request):
    """The event's exports, newest first."""
    query = parse_list_params(request, export_resource, FieldContext(context.event.tzinfo))
    statement = select(ExportJob).where(ExportJob.event_id == context.event.id)
    return render_list(request, export_resource, statement, query, team=True)


_OPTIONS_SCHEMA = {
    name: {"type": "object", "properties": {o: opt.schema() for o, opt in fmt.options.items()}}
    for name, fmt in FORMATS.items()
}
describe(
    create_export,
    "create",
    TYPE,
    summary="Start an export of the event (202; the job's state at /v1/export-jobs/{id})",
    status="202",
    request_schema={
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["type", "attributes"],
                "properties": {
                    "type": {"const": TYPE},
                    "attributes": {
                        "type": "object",
                        "required": ["format"],
                        "properties": {
                            "format": {"enum": list(FORMATS)},
                            "options": {
                                "type": "object",
                                "description": "by format: "
                                + "; ".join(
                                    f"{n}: {', '.join(f.options) or 'none'}"
                                    for n, f in FORMATS.items()
                                ),
                            },
                        },
                    },
                },
            }
        },
    },
)
describe(list_exports, "list", TYPE, summary="The event's exports, newest first")


def _feed_response(content_iter, media_type, etag, last_modified, length):
    response = Response(content_type=media_type.split(";")[0], charset="utf-8")
    response.app_iter = content_iter
    response.content_length = length
    response.etag = etag
    response.last_modified = last_modified
    # Clients keep the feed but ask again each time (cheaply, with If-None-Match).
    response.cache_control = "no-cache"
    return response


def serve_feed(context, request):
    """One of the event's feeds, as the last rebuild left it."""
    name = request.matched_route.name.removeprefix("exports.feed.")
    event = context.event
    if event.state != EventState.PUBLISHED or event.deleted_at is not None:
        raise NotFound("the event's schedule is not published")
    media_type = FORMATS[FEEDS[name]].media_type
    state = request.dbsession.get(FeedState, event.id)
    stored = (state.files or {}).get(name) if state is not None else None
    if stored is not None:
        etag, changed_at = stored["etag"], state.changed_at
        if etag in request.if_none_match or (
            not request.if_none_match
            and request.if_modified_since is not None
            and changed_at is not None
            and changed_at.replace(microsecond=0) <= request.if_modified_since
        ):
            return HTTPNotModified(etag=etag, cache_control="no-cache")
        storage = request.storage
        try:
            stream = storage.open(feed_key(event.id, stored["generation"], name))
        except ObjectNotFound:
            stream = None
        if stream is not None:
            chunks = iter(lambda: stream.read(256 * 1024), b"")
            return _feed_response(
                _closing(chunks, stream), media_type, etag, changed_at, stored["size"]
            )
    # Not built yet (the plugin was just installed, no change since): written for this request.
    try:
        program = load_program(request.dbsession, event.id, public=True)
    except EventNotFound:
        raise NotFound("the event's schedule is not published") from None
    stream = io.BytesIO()
    writing = Writing(base_url=export_settings(request.registry).public_url)
    FORMATS[FEEDS[name]].write(program, stream, writing)
    content = stream.getvalue()
    etag = hashlib.md5(content, usedforsecurity=False).hexdigest()
    if etag in request.if_none_match:
        return HTTPNotModified(etag=etag, cache_control="no-cache")
    return _feed_response([content], media_type, etag, program.last_modified, len(content))


def _closing(chunks, stream):
    try:
        yield from chunks
    finally:
        stream.close()


# frab's JSON is a document; the other feeds are text (iCalendar, XML).
_FEED_SCHEMAS = {
    "schedule.json": {
        "type": "object",
        "required": ["schedule"],
        "description": "frab's schedule (https://c3voc.de/schedule/schema.json)",
    }
}


def _feed_view(name: str):
    """The view of one feed, described in the OpenAPI document with its own media type."""

    def view(context, request):
        return serve_feed(context, request)

    view.__name__ = view.__qualname__ = f"feed_{name.replace('.', '_')}"
    return describe(
        view,
        "custom",
        summary=f"The event's {name} (ETag, Last-Modified; 304 on a match)",
        content_type=FORMATS[FEEDS[name]].media_type.split(";")[0],
        response_schema=_FEED_SCHEMAS.get(name, {"type": "string"}),
        parameters=(
            {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
            {"name": "If-Modified-Since", "in": "header", "schema": {"type": "string"}},
        ),
        responses={"304": "Not modified"},
    )


def includeme(config):
    # GET /v1/events/{id}/export-jobs and /v1/export-jobs/{id}: the team's, read-only.
    add_event_scoped_resource(
        config, export_resource, "export-jobs", read_permission=Permission.VIEW_TEAM
    )
    config.add_route("exports.event", "/events/{id}/exports", factory=TeamEventContext)
    config.add_view(
        create_export,
        route_name="exports.event",
        request_method="POST",
        permission=Permission.VIEW_TEAM,
        renderer="jsonapi",
    )
    config.add_view(
        list_exports,
        route_name="exports.event",
        request_method="GET",
        permission=Permission.VIEW_TEAM,
        renderer="jsonapi",
    )
    for name in FEEDS:
        route = f"exports.feed.{name}"
        config.add_route(route, f"/events/{{id}}/{name}", factory=EventContext)
        config.add_view(
            _feed_view(name), route_name=route, request_method="GET", permission=Permission.VIEW
        )
