"""An event's sponsors and social links: /v1/sponsors and /v1/social-links."""

from openevent.api.crud import add_event_scoped_resource
from openevent.api.fields import Html, Integer, String, Url
from openevent.api.program import timestamps
from openevent.api.resources import Relationship, Resource, register
from openevent.models import SocialLink, Sponsor
from openevent.security import Permission

sponsor_resource = register(
    Resource(
        type="sponsor",
        model=Sponsor,
        path="/v1/sponsors",
        fields={
            "name": String(required=True, min_length=1),
            "description": Html(),
            "url": Url(),
            "level": Integer(minimum=0, description="the sponsor's rank: 1 is shown first"),
            # Open Event's "type": JSON:API reserves that name for the resource's type.
            "sponsor-type": String(description="the heading the sponsor is shown under"),
            "logo-url": Url(),
            **timestamps(),
        },
        relationships={"event": Relationship("event", "event", writable=False)},
    )
)

social_link_resource = register(
    Resource(
        type="social-link",
        model=SocialLink,
        path="/v1/social-links",
        fields={
            "name": String(required=True, min_length=1),
            "link": Url(required=True),
            **timestamps(),
        },
        relationships={"event": Relationship("event", "event", writable=False)},
    )
)


def includeme(config):
    # Sponsors and social links are part of what the organizers publish about the event:
    # those who edit the program edit them too, as in Open Event.
    for resource, plural in [
        (sponsor_resource, "sponsors"),
        (social_link_resource, "social-links"),
    ]:
        add_event_scoped_resource(config, resource, plural, Permission.EDIT_PROGRAM)
