import pytest
from openapi_spec_validator import validate

from openevent.models import EventRole, EventState, Role
from openevent.testing import JSONAPI_HEADERS, make_event, make_user

METHODS = {"get", "post", "patch", "put", "delete"}


def _api_routes(registry):
    routes = {
        r["introspectable"]["name"]: "/" + r["introspectable"]["pattern"].lstrip("/")
        for r in registry.introspector.get_category("routes")
    }
    found = set()
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        pattern = routes.get(view["route_name"])
        if pattern and pattern.startswith("/v1/"):
            methods = view["request_methods"]
            for method in [methods] if isinstance(methods, str) else methods:
                found.add((pattern, method.lower()))
    return found


@pytest.fixture
def document(testapp):
    return testapp.get("/v1/openapi.json", status=200).json


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in METHODS:
                yield path, method, operation


def _statuses(document, path, method) -> set[str]:
    return set(document["paths"][path][method]["responses"])


def _schema(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _request_data(document, path, method) -> dict:
    body = document["paths"][path][method]["requestBody"]["content"]
    schema = _schema(document, next(iter(body.values()))["schema"])
    return schema["properties"]["data"]


def _parameter(document, path, method, name):
    parameters = document["paths"][path][method].get("parameters", [])
    return next((p for p in parameters if p["name"] == name), None)


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_and_method_is_described(document, registry):
    described = {(path, method) for path, method, _ in _operations(document)}
    assert _api_routes(registry) == described


def test_attributes_parameters_and_errors_are_described(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["event.attributes"]["properties"]) >= {"starts-at", "timezone", "state"}
    assert schemas["event.attributes"]["properties"]["identifier"]["readOnly"] is True
    listing = document["paths"]["/v1/events"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"filter", "sort", "page", "include"}
    create = document["paths"]["/v1/events"]["post"]
    assert {"201", "401", "415", "422"} <= set(create["responses"])
    login = document["paths"]["/v1/auth/login"]["post"]
    assert "application/json" in login["requestBody"]["content"]


def test_every_operation_documents_what_any_route_may_answer(document):
    """A malformed URL (400), a bad token (401) and a busy or stale database (503) can meet
    any route; 405 is never the answer to a documented method, and a 500 is a bug."""
    for path, method, operation in _operations(document):
        statuses = set(operation["responses"])
        assert {"400", "401", "503"} <= statuses, (method, path)
        assert not statuses & {"405", "500"}, (method, path)
    busy = document["components"]["responses"]["error-503"]
    assert "Retry-After" in busy["headers"]


def test_statuses_follow_the_routes_behaviour(document):
    # Team only: anonymous callers get 401, other users 403, hidden events 404.
    for path, method in [
        ("/v1/events/{id}/roles", "get"),
        ("/v1/events/{id}/plugins", "get"),
        ("/v1/events/{id}/plugins", "patch"),
        ("/v1/events/{id}/sample-notes", "get"),  # a plugin's route, VIEW_TEAM
    ]:
        assert {"401", "403", "404"} <= _statuses(document, path, method), (method, path)
    # Readable by anyone who may see the event: hidden is 404, never 403.
    assert "403" not in _statuses(document, "/v1/events/{id}", "get")
    assert "403" not in _statuses(document, "/v1/events/{id}/versions", "get")
    # Your own account only.
    assert {"401", "404"} <= _statuses(document, "/v1/users/{id}", "get")
    # A create names its event in the body: it may be hidden (404) or the role too low (403).
    assert {"403", "404"} <= _statuses(document, "/v1/sessions", "post")
    # Creating an event or an account names nothing that could be missing.
    assert "404" not in _statuses(document, "/v1/events", "post")
    assert "404" not in _statuses(document, "/v1/users", "post")
    # Lists with a trash answer filter[trashed] outside the team as if there were no trash.
    assert "404" in _statuses(document, "/v1/events", "get")
    assert "403" not in _statuses(document, "/v1/events/{id}/sessions", "get")
    assert "404" not in _statuses(document, "/v1/event-types", "get")
    # The server chooses ids: every create may refuse a client-generated one.
    assert "403" in _statuses(document, "/v1/events", "post")
    assert "403" in _statuses(document, "/v1/users", "post")
    # Bodies: JSON:API documents may conflict with the URL (409); login takes plain JSON.
    assert {"409", "413", "415", "422"} <= _statuses(document, "/v1/sessions/{id}", "patch")
    login = _statuses(document, "/v1/auth/login", "post")
    assert {"413", "415", "422"} <= login and "409" not in login
    assert not {"409", "413", "415", "422"} & _statuses(document, "/v1/auth/logout", "post")
    # The last owner cannot leave.
    assert "409" in _statuses(document, "/v1/events/{id}/roles/{role_id}", "delete")
    # The versions plugin answers 304 to If-None-Match.
    assert "304" in _statuses(document, "/v1/events/{id}/versions", "get")


@pytest.fixture
def draft(dbsession, owner):
    return make_event(dbsession, owner=owner)


@pytest.fixture
def stranger(token_for, dbsession):
    return token_for(make_user(dbsession, password=None))


@pytest.fixture
def coorganizer(token_for, dbsession, event):
    user = make_user(dbsession, password=None)
    dbsession.add(EventRole(event=event, user=user, role=Role.COORGANIZER))
    dbsession.flush()
    return token_for(user)


def test_refusals_are_documented(testapp, document, event, draft, owner, stranger, coorganizer):
    """The answers the issue found missing from the document: each really occurs, and the
    document lists it for its operation."""
    assert event.state is EventState.PUBLISHED
    cases = [
        ("get", "/v1/events/{id}/roles", f"/v1/events/{event.id}/roles", {}, 401),
        ("get", "/v1/events/{id}/roles", f"/v1/events/{event.id}/roles", stranger, 403),
        ("get", "/v1/events/{id}/roles", f"/v1/events/{draft.id}/roles", stranger, 404),
        ("get", "/v1/events/{id}/plugins", f"/v1/events/{event.id}/plugins", {}, 401),
        ("get", "/v1/events/{id}/plugins", f"/v1/events/{event.id}/plugins", stranger, 403),
        ("patch", "/v1/events/{id}/plugins", f"/v1/events/{event.id}/plugins", {}, 401),
        ("patch", "/v1/events/{id}/plugins", f"/v1/events/{event.id}/plugins", coorganizer, 403),
        ("get", "/v1/users/{id}", f"/v1/users/{owner.id}", {}, 401),
        ("get", "/v1/users/{id}", f"/v1/users/{owner.id}", stranger, 404),
        ("get", "/v1/events", "/v1/events?filter[trashed]=only", {}, 404),
        ("get", "/v1/languages", "/v1/languages", {"Authorization": "Bearer nope"}, 401),
    ]
    for method, path, url, headers, status in cases:
        body = {"data": []} if method == "patch" else None
        if body is None:
            response = testapp.get(url, headers=headers, status="*")
        else:
            response = testapp.patch_json(
                url, body, headers={**JSONAPI_HEADERS, **headers}, status="*"
            )
        assert response.status_int == status, (method, url, response.json)
        assert str(status) in _statuses(document, path, method), (method, path, status)


def test_request_bodies_take_what_the_views_take(document):
    create = _request_data(document, "/v1/sessions", "post")
    relationships = create["properties"]["relationships"]
    # The new row's event is named in the body, and only on create.
    assert "event" in relationships["required"]
    assert create["required"] == ["type", "attributes", "relationships"]
    assert create["properties"]["attributes"]["required"] == ["title"]
    assert create["properties"]["attributes"]["additionalProperties"] is False
    assert "id" not in create["properties"]
    update = _request_data(document, "/v1/sessions/{id}", "patch")
    assert update["required"] == ["type", "id"]
    assert "event" not in update["properties"]["relationships"]["properties"]
    assert "required" not in update["properties"]["attributes"]
    # Read-only attributes are not sent.
    assert "created-at" not in update["properties"]["attributes"]["properties"]
    # A required name must not be blank.
    title = create["properties"]["attributes"]["properties"]["title"]
    assert title["minLength"] == 1 and title["pattern"] == r"\S"
    # Registration takes a password that no response shows.
    register = _request_data(document, "/v1/users", "post")["properties"]["attributes"]
    assert register["required"] == ["email", "password"]
    assert register["properties"]["password"]["minLength"] == 8
    user = document["components"]["schemas"]["user.attributes"]["properties"]
    assert "password" not in user
    # A team member is named by the user; the event is in the path.
    role = _request_data(document, "/v1/events/{id}/roles", "post")
    assert role["properties"]["relationships"]["required"] == ["user"]


def test_query_parameters_are_the_ones_each_view_reads(document):
    # Filters name the resource's filterable fields and their operators; nothing else.
    sessions = _parameter(document, "/v1/events/{id}/sessions", "get", "filter")["schema"]
    assert sessions["additionalProperties"] is False
    assert "trashed" in sessions["properties"]
    starts_at = sessions["properties"]["starts-at"]["anyOf"][1]["properties"]
    assert set(starts_at) == {"eq", "lt", "gt", "le", "ge"}
    tickets = _parameter(document, "/v1/events/{id}/tickets", "get", "filter")["schema"]
    assert "sales-open" in tickets["properties"]
    include = _parameter(document, "/v1/events/{id}/sessions", "get", "include")["schema"]
    assert include["pattern"].count("speakers") == 2
    # ?permanent= is read by the DELETE of event rows only.
    assert _parameter(document, "/v1/sessions/{id}", "delete", "permanent")
    assert _parameter(document, "/v1/events/{id}", "delete", "permanent") is None
    assert _parameter(document, "/v1/event-types/{id}", "delete", "permanent") is None
    # Views that read no query parameter document none.
    assert _parameter(document, "/v1/users/{id}", "get", "fields") is None
    assert _parameter(document, "/v1/sessions", "post", "include") is None
    assert _parameter(document, "/v1/languages", "get", "locale")
    # Ids in paths are digits.
    assert _parameter(document, "/v1/sessions/{id}", "get", "id")["schema"]["pattern"] == "^[0-9]+$"


def test_response_schemas_are_closed(document):
    """Undeclared members fail the schemathesis test instead of slipping through."""
    schemas = document["components"]["schemas"]
    for name in ("session", "session.attributes", "session.document", "session.collection"):
        assert schemas[name]["additionalProperties"] is False, name
    included = schemas["session.document"]["properties"]["included"]["items"]["anyOf"]
    assert {"$ref": "#/components/schemas/speaker"} in included


def test_a_plugins_route_gets_its_statuses_from_its_permission(document):
    """The sample plugin declares its notes with the resource API; their team-only read
    permission and the path parameter give the list 401, 403 and 404, as the core's team
    lists have; a trash they have none of."""
    notes = document["paths"]["/v1/events/{id}/sample-notes"]["get"]
    assert notes["operationId"] == "event.sample-notes.get"
    assert set(notes["responses"]) == {"200", "400", "401", "403", "404", "503"}
    roles = document["paths"]["/v1/events/{id}/roles"]["get"]
    assert set(notes["responses"]) == set(roles["responses"])
