"""The sample plugin's upload route: the event's agenda, a PDF of up to 4 MiB.

openevent refuses any request body over ``openevent.api.max_body_bytes`` (1 MiB, room for any
JSON document) before a view runs; this route declares a larger limit of its own.
"""

from openevent.api.plugin import JSONAPI, EventContext, UnsupportedMediaType, describe
from openevent_sample_plugin.resources import WRITE_NOTES

AGENDA_MAX_BYTES = 4 * 1024 * 1024


def upload_agenda(context, request):
    """Store the event's agenda (a PDF), replacing the previous one."""
    if request.content_type != "application/pdf":
        raise UnsupportedMediaType("send the agenda as application/pdf")
    key = f"sample/{context.event.id}/agenda.pdf"
    stored = request.storage.put(key, request.body_file, "application/pdf")
    request.response.status_int = 201
    return {"meta": {"size": stored.size}, "jsonapi": JSONAPI}


describe(
    upload_agenda,
    "custom",
    status="201",
    parameters=(),
    request_content={"application/pdf": {"type": "string", "contentMediaType": "application/pdf"}},
)


def includeme(config):
    config.add_route("sample.agenda", "/events/{id}/sample-agenda", factory=EventContext)
    # Bodies of up to 4 MiB on this route; every other route keeps the app's limit.
    config.add_route_body_limit("sample.agenda", AGENDA_MAX_BYTES)
    config.add_view(
        upload_agenda,
        route_name="sample.agenda",
        request_method="PUT",
        permission=WRITE_NOTES,
        renderer="jsonapi",
    )
