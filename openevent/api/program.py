"""An event's program: /v1/sessions, /v1/session-types, /v1/speakers, /v1/tracks and
/v1/microlocations."""

from openevent.api.crud import add_event_scoped_resource
from openevent.api.events import RestoreOnly, coordinates, ends_after_start
from openevent.api.fields import (
    Boolean,
    Choice,
    Color,
    DateTime,
    Duration,
    Email,
    Html,
    Integer,
    String,
    Url,
)
from openevent.api.resources import Relationship, Resource, register
from openevent.models import Microlocation, Session, SessionState, SessionType, Speaker, Track
from openevent.models.program import MAX_SESSION_LENGTH
from openevent.previews import PREVIEW_LENGTH
from openevent.security import Permission

# The program the public sees: proposals, rejections and withdrawals stay with the team.
PUBLIC_SESSION_STATES = (SessionState.ACCEPTED, SessionState.CONFIRMED)


class SessionResource(Resource):
    def public_clause(self):
        return Session.state.in_(PUBLIC_SESSION_STATES)

    def is_public(self, obj):
        return obj.state in PUBLIC_SESSION_STATES

    def validate(self, obj, ctx):
        ends_after_start(obj)


class SpeakerResource(Resource):
    def serialize(self, obj, ctx, fieldset=None, team=False, to_many=True):
        document = super().serialize(obj, ctx, fieldset, team, to_many)
        if not team:
            # Speakers' addresses are for the organizers, as in Open Event.
            document["attributes"].pop("email", None)
        return document


def timestamps() -> dict:
    """``created-at`` and ``last-modified-at``, read-only."""
    return {
        "created-at": DateTime(read_only=True),
        "last-modified-at": DateTime(read_only=True),
    }


session_resource = register(
    SessionResource(
        type="session",
        model=Session,
        path="/v1/sessions",
        fields={
            "title": String(required=True, min_length=1),
            "subtitle": String(),
            "short-abstract": Html(max_length=10_000),
            "long-abstract": Html(),
            # Stored when an abstract is written (see openevent.previews), not computed per read.
            "abstract-preview": String(
                read_only=True,
                max_length=PREVIEW_LENGTH,
                filterable=False,
                sortable=False,
                description="plain text of the short abstract, or else of the long one",
            ),
            "language": String(max_length=35),
            "level": String(max_length=64),
            "state": Choice(SessionState, nullable=False),
            "starts-at": DateTime(),
            "ends-at": DateTime(),
            "slides-url": Url(),
            "video-url": Url(),
            "audio-url": Url(),
            "signup-url": Url(),
            **timestamps(),
            "deleted-at": RestoreOnly(),
        },
        relationships={
            "event": Relationship("event", "event", writable=False),
            "track": Relationship("track", "track"),
            "microlocation": Relationship("microlocation", "microlocation"),
            "session-type": Relationship("session-type", "session_type"),
            "speakers": Relationship("speaker", "speakers", many=True),
        },
    )
)

speaker_resource = register(
    SpeakerResource(
        type="speaker",
        model=Speaker,
        path="/v1/speakers",
        fields={
            "name": String(required=True, min_length=1),
            # Not filterable: the public must not learn whose address is on file.
            "email": Email(filterable=False, sortable=False),
            "photo-url": Url(),
            # Resized copies of the photo, set by an image plugin's job (openevent-images).
            "thumbnail-image-url": Url(read_only=True),
            "small-image-url": Url(read_only=True),
            "icon-image-url": Url(read_only=True),
            "organisation": String(),
            "position": String(),
            "country": String(),
            "city": String(),
            "short-biography": Html(),
            "long-biography": Html(),
            "is-featured": Boolean(nullable=False),
            "website": Url(),
            "twitter": Url(),
            "facebook": Url(),
            "github": Url(),
            "linkedin": Url(),
            **timestamps(),
            "deleted-at": RestoreOnly(),
        },
        relationships={
            "event": Relationship("event", "event", writable=False),
            "sessions": Relationship("session", "sessions", many=True, writable=False),
        },
    )
)

track_resource = register(
    Resource(
        type="track",
        model=Track,
        path="/v1/tracks",
        fields={
            "name": String(required=True, min_length=1),
            "description": Html(),
            "color": Color(),
            "font-color": Color(description="colour of text written on the track's colour"),
            **timestamps(),
        },
        relationships={"event": Relationship("event", "event", writable=False)},
    )
)

microlocation_resource = register(
    Resource(
        type="microlocation",
        model=Microlocation,
        path="/v1/microlocations",
        fields={
            "name": String(required=True, min_length=1),
            "position": Integer(minimum=0, nullable=False),
            "floor": Integer(minimum=-1000, maximum=1000),
            "room": String(),
            **coordinates(),
            **timestamps(),
        },
        relationships={"event": Relationship("event", "event", writable=False)},
    )
)

session_type_resource = register(
    Resource(
        type="session-type",
        model=SessionType,
        path="/v1/session-types",
        fields={
            "name": String(required=True, min_length=1),
            "length": Duration(
                "length_minutes", required=True, minimum=1, maximum=MAX_SESSION_LENGTH
            ),
            **timestamps(),
        },
        relationships={"event": Relationship("event", "event", writable=False)},
    )
)


def includeme(config):
    for resource, plural in [
        (session_resource, "sessions"),
        (speaker_resource, "speakers"),
        (track_resource, "tracks"),
        (microlocation_resource, "microlocations"),
        (session_type_resource, "session-types"),
    ]:
        add_event_scoped_resource(config, resource, plural, Permission.EDIT_PROGRAM)
