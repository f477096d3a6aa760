"""``GET /files/{key}``: the objects the storage keeps, at the URLs ``storage.url()`` gives.

A public object is served to anyone. A private one only with a valid signature
(``?expires=...&signature=...``, see :mod:`openevent.storage.signing`); without one it is
answered 404, as a missing object is, so unsigned requests cannot tell which private keys exist.
A signature that is present but wrong or expired is a 403, whether or not the key exists.

The content is streamed from ``storage.open()``; WebOb's conditional responses answer
``If-None-Match`` and ``If-Modified-Since`` (304) and ``Range`` (206, ``If-Range``) from the
ETag, modification time and size.
"""

from pyramid.response import FileIter, Response
from pyramid.view import view_config

from openevent.api.errors import JSONAPI, APIError, Forbidden, NotFound
from openevent.storage.interface import ObjectNotFound
from openevent.storage.keys import InvalidKey
from openevent.storage.signing import FILES_PATH

CHUNK_SIZE = 256 * 1024
# Images that browsers show inline and that cannot carry scripts (SVG can: it is a download).
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"}


def _error(error: APIError) -> Response:
    response = Response(
        json_body={"errors": error.error_objects(), "jsonapi": JSONAPI},
        status=error.status,
        content_type="application/vnd.api+json",
        charset=None,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@view_config(route_name="storage.file", request_method="GET")
def serve_file(request):
    key = request.path_info[len(FILES_PATH) :]
    # request.path_info is already percent-decoded.
    storage = request.storage
    signed = "signature" in request.GET or "expires" in request.GET
    # A plugin's backend whose URLs do not point here has no verify_signed: nothing it signed
    # can be valid here.
    verify = getattr(storage, "verify_signed", None)
    if signed and (
        verify is None or not verify(key, request.GET.get("expires"), request.GET.get("signature"))
    ):
        detail = "the signature of this URL is not valid or has expired"
        return _error(Forbidden(detail, parameter="signature"))
    try:
        stored = storage.stat(key)
    except (InvalidKey, ObjectNotFound):
        stored = None
    if stored is None or not (stored.public or signed):
        return _error(NotFound(f"no file at {request.path}"))
    try:
        stream = storage.open(key)
    except ObjectNotFound:  # deleted since the stat
        return _error(NotFound(f"no file at {request.path}"))
    response = Response(
        app_iter=FileIter(stream, CHUNK_SIZE),
        content_type=stored.content_type,
        charset=None,
        conditional_response=True,
    )
    response.content_length = stored.size
    response.etag = stored.etag
    response.last_modified = stored.last_modified  # If-Modified-Since: 304 as well
    response.accept_ranges = "bytes"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if stored.content_type.split(";")[0].strip().lower() not in INLINE_TYPES:
        response.content_disposition = "attachment"
    if stored.public:
        if stored.cache_control:
            response.headers["Cache-Control"] = stored.cache_control
    else:
        response.headers["Cache-Control"] = "private, no-store"
    return response
