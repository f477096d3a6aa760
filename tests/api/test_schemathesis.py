"""Property-based test of the whole API against its own OpenAPI document, with schemathesis.

Every operation of /v1/openapi.json is called in process (the WSGI app, no server) with
generated requests, valid and invalid, once as an event's owner and once anonymously. Every
answer must not be a server error, and must have a documented status, a documented content
type and a body that matches the documented schema.

- The owner's run has schemathesis's coverage phase (boundary values and each kind of invalid
  value, deterministically) and its fuzzing phase; the anonymous run, which most writes refuse
  at once, has the fuzzing phase only. Both generate valid and invalid data.
- Generation is derandomized with a fixed seed: CI sees the same requests every time.
- Most requests are steered to real rows (an event with a session, speaker, track,
  microlocation, session type, sponsor, social link, ticket and a team member), or nearly
  every answer would be a 404; one in five is sent as generated, so unknown and malformed ids
  are tried too.
- Each request runs in a savepoint rolled back (and released) after it: examples do not pile
  up rows, nor locks, and every request starts from the same data.
"""

from __future__ import annotations

import zlib
from datetime import datetime

import pytest
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

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
from openevent.testing import make_event, make_session, make_speaker, make_ticket, make_user

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# 30 generated requests per operation and caller, on top of the coverage phase's: the test
# takes about 2.5 minutes of CPU on SQLite.
FUZZING = {"mode": "all", "max-examples": 30, "deterministic": True, "database": "none"}
PHASES = {"examples": {"enabled": False}, "stateful": {"enabled": False}}
# Hypothesis's health checks judge generation speed, which a busy CI machine would make flaky.
BASE = {"seed": 9, "suppress-health-check": ["all"], "generation": FUZZING}
CONFIGS = {
    "owner": {**BASE, "phases": PHASES},
    "anonymous": {**BASE, "phases": {**PHASES, "coverage": {"enabled": False}}},
}
PASSWORD = "correct horse"


@schemathesis.serializer("application/pdf")
def _raw_bytes(ctx, value):
    """The sample plugin's agenda upload takes a PDF body: the generated value, as bytes."""
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.fixture
def world(dbsession):
    """The rows requests are steered to, and their ids by the collection that names them."""
    owner = make_user(dbsession, password=PASSWORD)
    member, spare = make_user(dbsession, password=None), make_user(dbsession, password=None)
    event = make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
    role = EventRole(event=event, user=member, role=Role.COORGANIZER)
    event_type = EventType(name="Conference")
    track = Track(event=event, name="Python")
    microlocation = Microlocation(event=event, name="Hall A")
    session_type = SessionType(event=event, name="Talk", length_minutes=30)
    sponsor = Sponsor(event=event, name="PSF")
    social_link = SocialLink(event=event, name="Wiki", link="https://example.org/wiki")
    dbsession.add_all([role, event_type, track, microlocation, session_type, sponsor, social_link])
    dbsession.flush()
    ids = {
        "events": event.id,
        "sessions": make_session(dbsession, event, state=SessionState.ACCEPTED).id,
        "speakers": make_speaker(dbsession, event).id,
        "tickets": make_ticket(dbsession, event).id,
        "tracks": track.id,
        "microlocations": microlocation.id,
        "session-types": session_type.id,
        "sponsors": sponsor.id,
        "social-links": social_link.id,
        "event-types": event_type.id,
        "users": owner.id,
        "roles": role.id,
    }
    # Linkage in request bodies: relationship name -> id.
    linked = {
        "event": event.id,
        "user": spare.id,
        "track": track.id,
        "microlocation": microlocation.id,
        "session-type": session_type.id,
        "speakers": ids["speakers"],
        "event-type": event_type.id,
    }
    return owner, ids, linked


def _sent_as_generated(case) -> bool:
    """One request in five is sent as generated (a stable choice, for reproducible runs)."""
    key = repr((case.method, case.path, case.path_parameters, case.query, case.body))
    return zlib.crc32(key.encode()) % 5 == 0


def _steer_path(case, ids: dict) -> None:
    parameters = dict(case.path_parameters)
    collection = case.path.split("/")[2]
    if "id" in parameters and collection in ids:
        parameters["id"] = str(ids[collection])
    if "role_id" in parameters:
        parameters["role_id"] = str(ids["roles"])
    case.path_parameters = parameters


def _ordered_times(attributes: dict) -> None:
    """starts-at before ends-at, so that a valid create is not refused for their order."""
    try:
        starts, ends = (datetime.fromisoformat(attributes[k]) for k in ("starts-at", "ends-at"))
        if starts.tzinfo is None or ends.tzinfo is None or ends > starts:
            return
    except (KeyError, TypeError, ValueError):
        return
    attributes["starts-at"], attributes["ends-at"] = attributes["ends-at"], attributes["starts-at"]


def _steer_body(case, owner, linked: dict) -> None:
    body = case.body
    if case.path == "/v1/auth/login" and isinstance(body, dict):
        case.body = {**body, "email": owner.email, "password": PASSWORD}
        return
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return
    data = dict(body["data"])
    if case.method == "PATCH" and case.path_parameters:
        # The row an update names must be the one in the URL.
        data["id"] = case.path_parameters.get("role_id") or case.path_parameters["id"]
    if isinstance(data.get("attributes"), dict):
        attributes = dict(data["attributes"])
        if "timezone" in attributes:
            attributes["timezone"] = "Asia/Singapore"
        _ordered_times(attributes)
        data["attributes"] = attributes
    if isinstance(data.get("relationships"), dict):
        relationships = dict(data["relationships"])
        for name, linkage in relationships.items():
            target = linkage.get("data") if isinstance(linkage, dict) else None
            if name not in linked:
                continue
            if isinstance(target, dict):
                relationships[name] = {"data": {**target, "id": str(linked[name])}}
            elif isinstance(target, list):
                items = [{**t, "id": str(linked[name])} for t in target if isinstance(t, dict)]
                relationships[name] = {"data": items[:1]}
        data["relationships"] = relationships
    case.body = {**body, "data": data}


@pytest.fixture(params=["owner", "anonymous"])
def caller(request):
    return request.param


@pytest.fixture
def api_schema(wsgi_app, db_connection, world, caller):
    config = schemathesis.Config.from_dict(CONFIGS[caller])
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", wsgi_app, config=config)
    owner, ids, linked = world

    @schema.hook
    def filter_case(context, case):
        # Query strings are text: a parameter "of the wrong JSON type" is just other text, which
        # the other scenarios cover. Leaving these out halves the coverage phase.
        data = case.meta.phase.data
        return not (
            getattr(data, "scenario", None) == "incorrect_type"
            and data.parameter_location == ParameterLocation.QUERY
        )

    @schema.hook
    def map_case(context, case):
        if _sent_as_generated(case):
            return case
        if case.path_parameters and not case.meta.is_negative_at(ParameterLocation.PATH):
            _steer_path(case, ids)
        if not case.meta.is_negative_at(ParameterLocation.BODY):
            _steer_body(case, owner, linked)
        return case

    return schema


@pytest.fixture
def headers(caller, world, token_for):
    return token_for(world[0]) if caller == "owner" else {}


@pytest.fixture(autouse=True)
def _node_id(request):
    """schemathesis 4.32 renames subtests through ``Node._nodeid``, which pytest 9.2 removed."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api(case, headers, db_connection):
    # ROLLBACK TO SAVEPOINT leaves the savepoint in place, so each example would leave one
    # more nested subtransaction open, each holding a lock on its transaction id until the
    # test ends: thousands of locks on PostgreSQL, more than its lock table holds ("out of
    # shared memory"). Releasing it after the rollback keeps one level, however many examples.
    db_connection.exec_driver_sql("SAVEPOINT schemathesis_example")
    try:
        case.call_and_validate(headers=headers, checks=CHECKS)
    finally:
        db_connection.exec_driver_sql("ROLLBACK TO SAVEPOINT schemathesis_example")
        db_connection.exec_driver_sql("RELEASE SAVEPOINT schemathesis_example")
