"""Every write route, tried by every kind of caller, against the permission policy.

Each write route needs a recipe here: a route added without one fails
``test_every_write_route_has_a_recipe``, so the matrix cannot fall behind the API.
"""

import base64
from dataclasses import dataclass
from importlib.util import find_spec

import pytest

from openevent.models import (
    EventRole,
    EventState,
    EventType,
    Microlocation,
    Role,
    SessionState,
    SessionType,
    SocialLink,
    Sponsor,
    Track,
)
from openevent.security import Permission
from openevent.testing import (
    JSONAPI_HEADERS,
    jsonapi_document,
    make_event,
    make_session,
    make_speaker,
    make_ticket,
    make_user,
)

CALLERS = ("anonymous", "other", "coorganizer", "organizer", "owner")
TEAM_EDIT = {"organizer", "owner"}
TEAM_ALL = {"coorganizer", "organizer", "owner"}
# Which callers each permission admits, as the issue and the docs state it.
POLICY = {
    Permission.EDIT: TEAM_EDIT,
    Permission.DELETE: TEAM_EDIT,
    Permission.MANAGE_ROLES: TEAM_EDIT,
    Permission.EDIT_PROGRAM: TEAM_ALL,
    Permission.EDIT_TICKETS: TEAM_ALL,
    Permission.CREATE_EVENT: {"other", "coorganizer", "organizer", "owner"},
    # Site administrators only (tests/api/test_event_types.py checks that admins may).
    Permission.ADMIN: set(),
    # The sample plugin's own (tests/plugin_dist), from config.add_event_permission.
    "sample:write-notes": TEAM_ALL,
    # What the whole team may do, as the exports plugin's POST /v1/events/{id}/exports.
    Permission.VIEW_TEAM: TEAM_ALL,
}
# Writes that are not about a role on an event: tested in their own modules.
NOT_ROLE_BASED = {
    ("user.collection", "POST"),  # registration: open to anyone
    ("auth.login", "POST"),
    ("auth.logout", "POST"),
    ("import-job.upload", "POST"),  # any signed-in user: tests/api/test_imports.py
}


@dataclass(frozen=True)
class Raw:
    """A body sent as it is, in its own media type (an upload), rather than as JSON:API."""

    content_type: str
    data: bytes


# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)


@dataclass
class World:
    event: object
    users: dict
    roles: dict
    spare: object
    event_type: object
    rows: dict


@pytest.fixture
def world(dbsession):
    users = {name: make_user(dbsession, password=None) for name in CALLERS[1:]}
    event = make_event(dbsession, owner=users["owner"], state=EventState.PUBLISHED)
    roles = {}
    for name, role in (("organizer", Role.ORGANIZER), ("coorganizer", Role.COORGANIZER)):
        roles[name] = EventRole(event=event, user=users[name], role=role)
        dbsession.add(roles[name])
    dbsession.flush()
    event_type = EventType(name="Conference")
    dbsession.add(event_type)
    dbsession.flush()
    from openevent_sample_plugin.models import SampleNote  # installed for the test run

    rows = {
        "sample-note": SampleNote(event=event, text="Bring the badges"),
        "ticket": make_ticket(dbsession, event),
        "session": make_session(dbsession, event, state=SessionState.ACCEPTED),
        "speaker": make_speaker(dbsession, event),
        "track": Track(event=event, name="Python"),
        "microlocation": Microlocation(event=event, name="Hall A"),
        "session-type": SessionType(event=event, name="Talk", length_minutes=30),
        "sponsor": Sponsor(event=event, name="Python Software Foundation"),
        "social-link": SocialLink(event=event, name="Twitter", link="https://twitter.com/pycon"),
    }
    dbsession.add_all(rows.values())
    dbsession.flush()
    return World(event, users, roles, make_user(dbsession, password=None), event_type, rows)


def _event_patch(w):
    return (
        "PATCH",
        f"/v1/events/{w.event.id}",
        jsonapi_document("event", {"name": "New"}, id=w.event.id),
    )


RECIPES = {
    ("event.collection", "POST"): (
        Permission.CREATE_EVENT,
        lambda w: (
            "POST",
            "/v1/events",
            jsonapi_document(
                "event",
                {
                    "name": "Meetup",
                    "timezone": "Europe/Berlin",
                    "starts-at": "2030-01-01T18:00",
                    "ends-at": "2030-01-01T21:00",
                },
            ),
        ),
    ),
    ("event.item", "PATCH"): (Permission.EDIT, _event_patch),
    ("event.item", "DELETE"): (
        Permission.DELETE,
        lambda w: ("DELETE", f"/v1/events/{w.event.id}", None),
    ),
    ("event.roles", "POST"): (
        Permission.MANAGE_ROLES,
        lambda w: (
            "POST",
            f"/v1/events/{w.event.id}/roles",
            jsonapi_document("event-role", {"role": "coorganizer"}, user=("user", w.spare.id)),
        ),
    ),
    ("event.role", "PATCH"): (
        Permission.MANAGE_ROLES,
        lambda w: (
            "PATCH",
            f"/v1/events/{w.event.id}/roles/{w.roles['coorganizer'].id}",
            jsonapi_document("event-role", {"role": "organizer"}, id=w.roles["coorganizer"].id),
        ),
    ),
    ("event.role", "DELETE"): (
        Permission.MANAGE_ROLES,
        lambda w: ("DELETE", f"/v1/events/{w.event.id}/roles/{w.roles['coorganizer'].id}", None),
    ),
    # Per-event plugins; "sample" is the plugin of tests/plugin_dist, installed with the tests.
    ("event.plugins", "PATCH"): (
        Permission.EDIT,
        lambda w: (
            "PATCH",
            f"/v1/events/{w.event.id}/plugins",
            {"data": [{"type": "event-plugin", "id": "sample", "attributes": {"enabled": False}}]},
        ),
    ),
    ("event.plugin", "PATCH"): (
        Permission.EDIT,
        lambda w: (
            "PATCH",
            f"/v1/events/{w.event.id}/plugins/sample",
            {
                "data": {
                    "type": "event-plugin",
                    "id": "sample",
                    "attributes": {"settings": {"keep-notes": False}},
                }
            },
        ),
    ),
    ("event-type.collection", "POST"): (
        Permission.ADMIN,
        lambda w: ("POST", "/v1/event-types", jsonapi_document("event-type", {"name": "Retreat"})),
    ),
    ("event-type.item", "PATCH"): (
        Permission.ADMIN,
        lambda w: (
            "PATCH",
            f"/v1/event-types/{w.event_type.id}",
            jsonapi_document("event-type", {"name": "Summit"}, id=w.event_type.id),
        ),
    ),
    ("event-type.item", "DELETE"): (
        Permission.ADMIN,
        lambda w: ("DELETE", f"/v1/event-types/{w.event_type.id}", None),
    ),
}


def _event_scoped_recipes(type_: str, plural: str, permission: str, attributes: dict):
    """Create, change and trash recipes for a resource under add_event_scoped_resource."""
    return {
        (f"{type_}.collection", "POST"): (
            permission,
            lambda w: (
                "POST",
                f"/v1/{plural}",
                jsonapi_document(type_, attributes, event=("event", w.event.id)),
            ),
        ),
        (f"{type_}.item", "PATCH"): (
            permission,
            lambda w: (
                "PATCH",
                f"/v1/{plural}/{w.rows[type_].id}",
                jsonapi_document(type_, attributes, id=w.rows[type_].id),
            ),
        ),
        (f"{type_}.item", "DELETE"): (
            permission,
            lambda w: ("DELETE", f"/v1/{plural}/{w.rows[type_].id}", None),
        ),
    }


RECIPES.update(_event_scoped_recipes("ticket", "tickets", Permission.EDIT_TICKETS, {"name": "VIP"}))
for _type, _plural, _attributes in (
    ("session", "sessions", {"title": "Lightning talks"}),
    ("speaker", "speakers", {"name": "Grace Hopper"}),
    ("track", "tracks", {"name": "Data"}),
    ("microlocation", "microlocations", {"name": "Hall B"}),
    ("session-type", "session-types", {"name": "Workshop", "length": "01:30"}),
    ("sponsor", "sponsors", {"name": "FOSSASIA", "level": 1}),
    ("social-link", "social-links", {"name": "Wiki", "link": "https://example.org/wiki"}),
):
    RECIPES.update(_event_scoped_recipes(_type, _plural, Permission.EDIT_PROGRAM, _attributes))
# A plugin's resource, written with a permission of the plugin's own.
RECIPES.update(
    _event_scoped_recipes("sample-note", "sample-notes", "sample:write-notes", {"text": "Hi"})
)
# A plugin's upload route, with a body limit of its own and a permission of the plugin's.
RECIPES[("sample.agenda", "PUT")] = (
    "sample:write-notes",
    lambda w: ("PUT", f"/v1/events/{w.event.id}/sample-agenda", Raw("application/pdf", b"%PDF")),
)
# The first-party images plugin, when installed beside the core (make test installs it).
if find_spec("openevent_images") is not None:
    RECIPES[("images.upload", "POST")] = (
        Permission.EDIT_PROGRAM,
        lambda w: ("POST", f"/v1/events/{w.event.id}/uploads/images", Raw("image/png", PNG)),
    )
# The first-party exports plugin, when installed (`make test` installs it): starting an export.
if find_spec("openevent_exports") is not None:
    RECIPES[("exports.event", "POST")] = (
        Permission.VIEW_TEAM,
        lambda w: (
            "POST",
            f"/v1/events/{w.event.id}/exports",
            jsonapi_document("export-job", {"format": "ical"}),
        ),
    )
# What only the team reads (the sample notes, read with event:view-team; the exports) is not
# there for other users, as a draft is not: their writes get 404, not 403.
TEAM_ONLY = {
    key for key in RECIPES if key[0].startswith("sample-note.") or key[0] == "exports.event"
}
# Routes that do not belong to an event, where "cannot see" does not arise.
NOT_EVENT_SCOPED = {key for key in RECIPES if key[0].startswith("event-type.")} | {
    ("event.collection", "POST")
}


def _write_routes(registry):
    found = set()
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        methods = view["request_methods"] or ()
        for method in [methods] if isinstance(methods, str) else methods:
            if method in ("POST", "PATCH", "PUT", "DELETE") and view["route_name"]:
                found.add((view["route_name"], method))
    return found


def _send(testapp, method, url, body, headers):
    if isinstance(body, Raw):
        headers = {**headers, "Content-Type": body.content_type}
        encoded = body.data
    else:
        encoded = None if body is None else testapp.JSONEncoder().encode(body).encode()
    return testapp.request(url, method=method, headers=headers, body=encoded, expect_errors=True)


def test_every_write_route_has_a_recipe(registry):
    missing = _write_routes(registry) - set(RECIPES) - NOT_ROLE_BASED
    assert not missing, f"add role-matrix recipes for {sorted(missing)}"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", sorted(RECIPES), ids="-".join)
def test_role_matrix(testapp, world, token_for, route, caller):
    permission, recipe = RECIPES[route]
    method, url, body = recipe(world)
    headers = dict(JSONAPI_HEADERS)
    if caller != "anonymous":
        headers.update(token_for(world.users[caller]))
    response = _send(testapp, method, url, body, headers)
    if caller in POLICY[permission]:
        assert response.status_int in (200, 201, 202, 204), response.text
    elif caller == "anonymous":
        assert response.status_int == 401, response.text
    elif caller == "other" and route in TEAM_ONLY:
        assert response.status_int == 404, response.text
    else:
        assert response.status_int == 403, response.text
        assert response.json["errors"][0]["code"] == "forbidden"


@pytest.mark.parametrize("route", sorted(set(RECIPES) - NOT_EVENT_SCOPED), ids="-".join)
def test_outsiders_get_404_on_a_draft_event(testapp, world, dbsession, token_for, route):
    world.event.state = EventState.DRAFT
    dbsession.flush()
    _, recipe = RECIPES[route]
    method, url, body = recipe(world)
    headers = {**JSONAPI_HEADERS, **token_for(world.users["other"])}
    response = _send(testapp, method, url, body, headers)
    assert response.status_int == 404, response.text
