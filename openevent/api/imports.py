"""Imports through the API: ``POST /v1/events/import`` (an Open Event export, as any signed-in
user, who owns the new event) answers 202 and an ``import-job``, which
``GET /v1/import-jobs/{id}`` shows to that user (and to admins) until it is done or failed.
The job itself is :func:`openevent.importer.jobs.run_import`; see docs/import.md.
"""

import secrets
import tempfile

from sqlalchemy import select

from openevent.api.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)
from openevent.api.fields import (
    Boolean,
    Choice,
    Computed,
    DateTime,
    FieldContext,
    Integer,
    Invalid,
    String,
    check_text,
    parse_id,
)
from openevent.api.openapi import describe
from openevent.api.query import parse_document_params, parse_list_params, render_list, render_one
from openevent.api.resources import Relationship, Resource, register
from openevent.importer.archive import Archive, ArchiveLimits, ArchiveRefused
from openevent.importer.jobs import run_import
from openevent.models import ImportJob, ImportState, JobFailure

RUNNING = (ImportState.QUEUED, ImportState.RUNNING)  # StrEnums: equal to their values


class ImportJobResource(Resource):
    event_attr = None  # an import belongs to its user; its times are shown in UTC

    def default_order(self):
        return [ImportJob.created_at.desc()]


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
                description="when done: counts per collection, ignored keys, every repair "
                "and skip (kind, file, id, reason), and the media files stored (files, bytes)",
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


def _show_deaths(request, items: list[dict], *where) -> None:
    """Jobs still queued or running whose message failed for good died: the resource objects
    ``items`` say so. ``where`` picks the jobs to look at (one statement for them all)."""
    waiting = [item for item in items if item["attributes"].get("state") in RUNNING]
    if not waiting:
        return
    deaths = dict(
        request.dbsession.execute(
            select(ImportJob.id, JobFailure.error)
            .join(JobFailure, JobFailure.message_id == ImportJob.message_id)
            .where(ImportJob.state.in_(RUNNING), *where)
        ).all()
    )
    for item in waiting:
        error = deaths.get(int(item["id"]))
        if error is not None:
            item["attributes"]["state"] = ImportState.FAILED.value
            if "error" in item["attributes"]:
                item["attributes"]["error"] = {"reason": f"the import job died: {error}"}


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
    document = render_one(request, import_job_resource, job, query, team=True)
    _show_deaths(request, [document["data"]], ImportJob.id == job.id)
    return document


def list_import_jobs(request):
    """GET /v1/import-jobs: your imports, newest first by default."""
    user = _user(request)
    query = parse_list_params(request, import_job_resource, FieldContext())
    if query.include:
        raise BadRequest("include is not supported here", parameter="include")
    statement = select(ImportJob).where(ImportJob.user_id == user.id)
    document = render_list(request, import_job_resource, statement, query, team=True)
    _show_deaths(request, document["data"], ImportJob.user_id == user.id)
    return document


ROUTE = "import-job.upload"
# A multipart form's boundaries and part headers, beyond the file itself.
FORM_OVERHEAD = 64 * 1024
ARCHIVE_TYPES = ("application/zip", "application/x-zip-compressed")


def _upload(request):
    """The uploaded export as a stream, its file name and the strict flag: a zip body (strict
    in the query string), or a form's ``file`` (and ``strict``)."""
    content_type = request.content_type
    if content_type in ARCHIVE_TYPES:
        return request.body_file, "export.zip", request.GET.get("strict", "false")
    if content_type != "multipart/form-data":
        raise UnsupportedMediaType(
            "send the export as application/zip, or multipart/form-data with a file"
        )
    try:
        files = request.POST.getall("file")
        strict = request.POST.get("strict", "false")
    except (ValueError, KeyError, TypeError, UnicodeError) as exc:
        raise BadRequest(f"the form cannot be read: {exc}") from None
    if len(files) != 1 or getattr(files[0], "file", None) is None:
        raise Unprocessable("send one file, in the form field 'file'", pointer="/file")
    name = files[0].filename if isinstance(files[0].filename, str) else None
    return files[0].file, (name or "export.zip")[:255], strict


def _file_name(name: str) -> str | None:
    """A file name as given, unless it holds control characters (then none is kept)."""
    try:
        return check_text(name)
    except Invalid:
        return None


def start_import(request):
    """POST /v1/events/import: an Open Event export becomes a new event, owned by you, in a job.

    The archive is checked before it is accepted (a hostile or broken zip is a 422 at once),
    kept in storage until its job has read it, and the job is at the Location returned.
    """
    user = _user(request)
    settings = request.registry.settings
    max_bytes = settings["openevent.import.max_upload_bytes"]
    stream, file_name, strict = _upload(request)
    if strict not in ("true", "false"):
        raise BadRequest("strict must be true or false", parameter="strict")
    with tempfile.NamedTemporaryFile(prefix="openevent-upload-", suffix=".zip") as upload:
        copied = 0
        while chunk := stream.read(1024 * 1024):
            copied += len(chunk)
            if copied > max_bytes:
                raise PayloadTooLarge(f"the export is larger than {max_bytes} bytes")
            upload.write(chunk)
        upload.flush()
        try:
            Archive.open(upload.name, ArchiveLimits.from_settings(settings)).close()
        except ArchiveRefused as exc:
            raise Unprocessable(f"the archive is refused: {exc}", pointer="/file") from None
        job = ImportJob(user_id=user.id, strict=strict == "true", file_name=_file_name(file_name))
        request.dbsession.add(job)
        request.dbsession.flush()
        key = f"imports/{job.id}/{secrets.token_hex(8)}.zip"
        upload.seek(0)
        request.storage.put(key, upload, "application/zip")
    job.archive_key = key
    # Nothing will import it if this request does not commit: the upload goes with it.
    storage = request.storage
    request.tm.get().addAfterCommitHook(lambda committed: committed or storage.delete(key))
    # The site's address as this request sees it: the imported media files' URLs start with it.
    job.message_id = request.enqueue(run_import, job.id, request.application_url)
    request.response.status_int = 202
    request.response.headers["Location"] = request.application_url + import_job_resource.link(job)
    return render_one(request, import_job_resource, job, team=True)


describe(
    start_import,
    "custom",
    "import-job",
    summary="Import an Open Event export (zip) as a new event you own",
    status="202",
    parameters=(),
    request_content={
        "multipart/form-data": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "contentMediaType": "application/zip"},
                "strict": {"type": "string", "enum": ["true", "false"]},
            },
        },
        "application/zip": {"type": "string", "contentMediaType": "application/zip"},
    },
)
describe(read_import_job, "read", "import-job", summary="An import's state and report")
describe(list_import_jobs, "list", "import-job", summary="Your imports")


def includeme(config):
    json = dict(renderer="jsonapi")
    # Before /events/{id}, which would take "import" for an id.
    config.add_route(ROUTE, "/events/import")
    max_bytes = config.registry.settings["openevent.import.max_upload_bytes"]
    config.add_route_body_limit(ROUTE, max_bytes + FORM_OVERHEAD)
    config.add_view(start_import, route_name=ROUTE, request_method="POST", **json)
    config.add_route("import-job.collection", "/import-jobs")
    config.add_route("import-job.item", "/import-jobs/{id}")
    config.add_view(read_import_job, route_name="import-job.item", request_method="GET", **json)
    config.add_view(
        list_import_jobs, route_name="import-job.collection", request_method="GET", **json
    )
