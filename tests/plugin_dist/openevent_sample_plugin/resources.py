"""The sample plugin's API: two collections of an event's rows, declared, not written.

openevent's resource machinery gives each the routes and behaviour of the core's collections
(paging, filters, sorting, sparse fieldsets, 400 for an unknown parameter, times in the event's
timezone, 401/403/404, the OpenAPI document), and answers 404 for events the plugin is turned
off for.
"""

from openevent.api.plugin import (
    DateTime,
    Integer,
    Permission,
    Relationship,
    Resource,
    String,
    Text,
    add_event_scoped_resource,
    register,
)
from openevent_sample_plugin.models import SampleNote, SessionTitleChange

# The plugin's own permissions on an event, granted to roles of its team in includeme().
READ_TITLE_CHANGES = "sample:read-title-changes"
WRITE_NOTES = "sample:write-notes"

title_change_resource = register(
    Resource(
        type="session-title-change",
        model=SessionTitleChange,
        path="/v1/session-title-changes",
        fields={
            "session-id": Integer(read_only=True),
            "old-title": String(read_only=True),
            "new-title": String(read_only=True),
            "changed-at": DateTime(read_only=True),
            "user-id": Integer(read_only=True),
        },
        relationships={"event": Relationship("event", "event", writable=False)},
    )
)

note_resource = register(
    Resource(
        type="sample-note",
        model=SampleNote,
        path="/v1/sample-notes",
        fields={"text": Text(required=True, min_length=1)},
        relationships={"event": Relationship("event", "event", writable=False)},
    )
)


def includeme(config):
    config.add_event_permission(READ_TITLE_CHANGES, roles=("owner", "organizer"))
    config.add_event_permission(WRITE_NOTES, roles=("owner", "organizer", "coorganizer"))
    # GET /v1/events/{id}/session-title-changes and /v1/session-title-changes/{id}; no write
    # permission, so read-only.
    add_event_scoped_resource(
        config,
        title_change_resource,
        "session-title-changes",
        read_permission=READ_TITLE_CHANGES,
    )
    # The same two, and POST /v1/sample-notes, PATCH and DELETE /v1/sample-notes/{id}.
    add_event_scoped_resource(
        config,
        note_resource,
        "sample-notes",
        WRITE_NOTES,
        read_permission=Permission.VIEW_TEAM,
    )
