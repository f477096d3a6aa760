"""Imports through the API: ``POST /v1/events/import`` (an Open Event export, as any signed-in
user, who owns the new event) answers 202 and an ``import-job``, which
``GET /v1/import-jobs/{id}`` shows to that user (and to admins) until it is done or failed.
The job itself is :func:`openevent.importer.jobs.run_import`; see docs/import.md.
"""

from sqlalchemy import select

from openevent.api.errors import BadRequest, NotFound, Unauthorized
from openevent.api.fields import (
    Boolean,
    Choice,
    Computed,
    DateTime,
    FieldContext,
    Integer,
    Invalid,
    String,
    parse_id,
)
from openevent.api.openapi import describe
from openevent.api.query import parse_document_params, parse_list_params, render_list, render_one
from openevent.api.resources import Relationship, Resource, register
from openevent.importer.jobs import run_import  # noqa: F401  (declared with the API)
from openevent.models import ImportJob, ImportState, JobFailure

RUNNING = (ImportState.QUEUED, ImportState.RUNNING)


class ImportJobResource(Resource):
    event_attr = None  # an import belongs to its user; its times are shown in UTC

    def serialize(self, obj, ctx, fieldset=None, team=False, to_many=True):
        document = super().serialize(obj, ctx, fieldset, team, to_many)
        died = getattr(obj, "died", None)  # set by the views from the job's failure record
        attributes = document["attributes"]
        if died is not None and obj.state in RUNNING:
            if "state" in attributes:
                attributes["state"] = ImportState.FAILED.value
            if "error" in attributes:
                attributes["error"] = {"reason": f"the import job died: {died}"}
        return document


import_job_resource = register(
    ImportJobResource(
        type="import-job",
        model=ImportJob,
        path="/v1/import-jobs",
        fields={
            "state": Choice(ImportState, read_only=True),
            "progress": Integer(read_only=True, description="0 to 100, in steps"),
            "strict": Boolean(read_only=True),
            "file-name": String(read_only=True),
            "report": Computed(
                lambda job: job.report,
                json_type="object",
                description="when done: counts per collection, ignored keys and every repair "
                "and skip (kind, file, id, reason)",
            ),
            "error": Computed(
                lambda job: job.error,
                json_type="object",
                description="when failed: the reason, and the file, id, key or JSON position",
            ),
            "created-at": DateTime(read_only=True),
            "started-at": DateTime(read_only=True),
            "finished-at": DateTime(read_only=True),
        },
        relationships={"event": Relationship("event", "event", writable=False)},
    )
)


def _user(request):
    user = request.identity
    if user is None:
        raise Unauthorized("log in to see your imports: send Authorization: Bearer <token>")
    return user


def _note_deaths(request, jobs) -> None:
    """Jobs still queued or running whose message failed for good died: say so."""
    waiting = {job.message_id: job for job in jobs if job.state in RUNNING and job.message_id}
    if not waiting:
        return
    failures = request.dbsession.execute(
        select(JobFailure.message_id, JobFailure.error).where(JobFailure.message_id.in_(waiting))
    )
    for message_id, error in failures:
        waiting[message_id].died = error


def read_import_job(request):
    """GET /v1/import-jobs/{id}: yours (admins: anyone's); 404 for anyone else's."""
    user = _user(request)
    raw = request.matchdict["id"]
    try:
        job = request.dbsession.get(ImportJob, parse_id(raw))
    except Invalid:
        job = None
    if job is None or not (job.user_id == user.id or user.is_admin):
        raise NotFound(f"no import job with id {raw!r}")
    query = parse_document_params(request, import_job_resource)
    if query.include:
        raise BadRequest("include is not supported here", parameter="include")
    _note_deaths(request, [job])
    return render_one(request, import_job_resource, job, query, team=True)


def list_import_jobs(request):
    """GET /v1/import-jobs: your imports, newest first by default."""
    user = _user(request)
    query = parse_list_params(request, import_job_resource, FieldContext())
    if query.include:
        raise BadRequest("include is not supported here", parameter="include")
    statement = select(ImportJob).where(ImportJob.user_id == user.id)
    document = render_list(request, import_job_resource, statement, query, team=True)
    return document


describe(read_import_job, "read", "import-job", summary="An import's state and report")
describe(list_import_jobs, "list", "import-job", summary="Your imports")


def includeme(config):
    json = dict(renderer="jsonapi")
    config.add_route("import-job.collection", "/import-jobs")
    config.add_route("import-job.item", "/import-jobs/{id}")
    config.add_view(read_import_job, route_name="import-job.item", request_method="GET", **json)
    config.add_view(
        list_import_jobs, route_name="import-job.collection", request_method="GET", **json
    )
