"""``POST /v1/events/{id}/uploads/images``: an image for the event, kept as it was sent.

The event's team uploads (``program:edit``, which every role of the team holds: coorganizers
edit speakers, and so their photos). The body is the file itself, with an ``image/*`` content
type, or a ``multipart/form-data`` form with one ``file``. What the file is comes from its
bytes alone (:func:`openevent_images.processing.inspect`), and must be one of the formats the
site takes (``images.formats``). The answer gives the stored original's URL, to be set as an
event's ``original-image-url`` or ``logo-url`` or a speaker's ``photo-url``: that change starts
the resizing.

The route takes bodies up to the ``images.max_bytes`` setting (plus room for a form's
headers), declared with ``config.add_route_body_limit``; the app's 1 MiB limit stays for JSON.
"""

from openevent.api.plugin import (
    JSONAPI,
    BadRequest,
    EventContext,
    PayloadTooLarge,
    Permission,
    Unprocessable,
    UnsupportedMediaType,
    describe,
)
from openevent_images.keys import token_in
from openevent_images.originals import store_original
from openevent_images.processing import ImageRejected
from openevent_images.settings import SETTINGS_KEY

ROUTE = "images.upload"
# A multipart form's boundaries and part headers, beyond the file itself.
FORM_OVERHEAD = 64 * 1024

_UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "type": "object",
            "required": ["type", "id", "attributes"],
            "properties": {
                "type": {"const": "image-upload"},
                "id": {"type": "string"},
                "attributes": {
                    "type": "object",
                    "properties": {
                        "url": {"type": "string", "format": "uri"},
                        "width": {"type": "integer"},
                        "height": {"type": "integer"},
                        "format": {"enum": ["jpeg", "png", "webp", "gif"]},
                    },
                },
            },
        }
    },
}


def _read_file(request, max_bytes: int) -> bytes:
    """The uploaded file's bytes: the body of an image/* request, or a form's one ``file``."""
    content_type = request.content_type
    if content_type.startswith("image/"):
        stream = request.body_file
    elif content_type == "multipart/form-data":
        try:
            files = request.POST.getall("file")
        except (ValueError, KeyError, TypeError, UnicodeError) as exc:
            raise BadRequest(f"the form cannot be read: {exc}") from None
        # A file part is a field storage with a stream; a plain form value is a string.
        if len(files) != 1 or getattr(files[0], "file", None) is None:
            raise Unprocessable("send one file, in the form field 'file'")
        stream = files[0].file
    else:
        raise UnsupportedMediaType("send an image/* body, or multipart/form-data with a file")
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the image is larger than {max_bytes} bytes")
    return data


def _absolute(request, url: str) -> str:
    """A storage URL as clients can use it anywhere: on this host if the storage serves it."""
    return url if "://" in url else request.host_url + request.script_name + url


def upload_image(context, request):
    """Upload an image of the event (an original, for an image attribute)."""
    settings = request.registry[SETTINGS_KEY]
    data = _read_file(request, settings.max_bytes)
    try:
        key, image = store_original(
            request.storage, context.event.id, data, settings.max_pixels, settings.formats
        )
    except ImageRejected as exc:
        error = UnsupportedMediaType if exc.status == 415 else Unprocessable
        raise error(exc.detail) from None
    request.response.status_int = 201
    return {
        "data": {
            "type": "image-upload",
            "id": token_in(key, context.event.id),
            "attributes": {
                "url": _absolute(request, request.storage.url(key)),
                "width": image.width,
                "height": image.height,
                "format": image.format.lower(),
            },
        },
        "jsonapi": JSONAPI,
    }


describe(
    upload_image,
    "custom",
    summary="Upload an image of the event: JPEG, PNG, WebP or GIF, as the site allows",
    status="201",
    response_schema=_UPLOAD_SCHEMA,
    parameters=(),
    request_content={
        "multipart/form-data": {
            "type": "object",
            "required": ["file"],
            "properties": {"file": {"type": "string", "contentMediaType": "image/*"}},
        },
        "image/*": {"type": "string", "contentMediaType": "image/*"},
    },
)


def includeme(config):
    settings = config.registry[SETTINGS_KEY]
    config.add_route(ROUTE, "/events/{id}/uploads/images", factory=EventContext)
    config.add_route_body_limit(ROUTE, settings.max_bytes + FORM_OVERHEAD)
    config.add_view(
        upload_image,
        route_name=ROUTE,
        request_method="POST",
        permission=Permission.EDIT_PROGRAM,
        renderer="jsonapi",
    )
