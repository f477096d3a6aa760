import pytest

from openevent.models import Event, EventState
from openevent.testing import JSONAPI_HEADERS, jsonapi_document, make_event, make_user

EVENT = {
    "name": "FOSSASIA Summit 2017",
    "timezone": "Asia/Singapore",
    "starts-at": "2017-03-17T09:00:00",
    "ends-at": "2017-03-19T18:00:00+08:00",
}


@pytest.fixture
def owner(dbsession):
    return make_user(dbsession, email="owner@example.org")


@pytest.fixture
def owner_headers(login, owner):
    return {**login(owner), **JSONAPI_HEADERS}


def test_create_event_with_local_times(testapp, owner_headers):
    response = testapp.post_json(
        "/v1/events", jsonapi_document("event", EVENT), headers=owner_headers, status=201
    )
    attributes = response.json["data"]["attributes"]
    assert attributes["starts-at"] == "2017-03-17T09:00:00+08:00"
    assert attributes["ends-at"] == "2017-03-19T18:00:00+08:00"
    assert attributes["state"] == "draft"
    assert len(attributes["identifier"]) == 8


def test_times_with_other_offsets_are_rendered_in_the_event_timezone(testapp, owner_headers):
    body = jsonapi_document("event", {**EVENT, "starts-at": "2017-03-17T01:00:00Z"})
    data = testapp.post_json("/v1/events", body, headers=owner_headers, status=201).json["data"]
    assert data["attributes"]["starts-at"] == "2017-03-17T09:00:00+08:00"


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"timezone": "Mars/Olympus"}, "/data/attributes/timezone"),
        ({"ends-at": "2017-03-17T08:00:00+08:00"}, "/data/attributes/ends-at"),
        ({"starts-at": "tomorrow"}, "/data/attributes/starts-at"),
        ({"name": 42}, "/data/attributes/name"),
        ({"state": "archived"}, "/data/attributes/state"),
        ({"identifier": "mine"}, "/data/attributes/identifier"),
        ({"colour": "red"}, "/data/attributes/colour"),
    ],
)
def test_invalid_events_are_422_with_a_pointer(
    testapp, owner_headers, dbsession, attributes, pointer
):
    body = jsonapi_document("event", {**EVENT, **attributes})
    response = testapp.post_json("/v1/events", body, headers=owner_headers, status=422)
    assert pointer in [error["source"]["pointer"] for error in response.json["errors"]]
    assert dbsession.query(Event).count() == 0


def test_anonymous_cannot_create(testapp):
    testapp.post_json(
        "/v1/events", jsonapi_document("event", EVENT), headers=JSONAPI_HEADERS, status=401
    )


def test_draft_is_hidden_from_the_public_and_other_users(testapp, dbsession, login, owner):
    event = make_event(dbsession, owner=owner)
    testapp.get(f"/v1/events/{event.id}", status=404)
    testapp.get(f"/v1/events/{event.id}", headers=login(make_user(dbsession)), status=404)
    testapp.get(f"/v1/events/{event.id}", headers=login(owner), status=200)
    assert testapp.get("/v1/events").json["meta"]["count"] == 0


def test_published_event_is_public(testapp, dbsession, owner):
    event = make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
    assert testapp.get(f"/v1/events/{event.id}").json["data"]["id"] == str(event.id)
    assert testapp.get("/v1/events").json["meta"]["count"] == 1


def test_patch_and_soft_delete_and_restore(testapp, dbsession, owner, owner_headers):
    event = make_event(dbsession, owner=owner)
    body = jsonapi_document("event", {"name": "Renamed"}, id=event.id)
    data = testapp.patch_json(f"/v1/events/{event.id}", body, headers=owner_headers).json["data"]
    assert data["attributes"]["name"] == "Renamed"
    testapp.delete(f"/v1/events/{event.id}", headers=owner_headers, status=204)
    assert testapp.get("/v1/events", headers=owner_headers).json["meta"]["count"] == 0
    trashed = testapp.get("/v1/events?filter[trashed]=only", headers=owner_headers).json
    assert [e["id"] for e in trashed["data"]] == [str(event.id)]
    body = jsonapi_document("event", {"deleted-at": None}, id=event.id)
    testapp.patch_json(f"/v1/events/{event.id}", body, headers=owner_headers, status=200)
    assert testapp.get("/v1/events", headers=owner_headers).json["meta"]["count"] == 1


def test_errors_are_jsonapi_documents(testapp, owner_headers):
    response = testapp.post("/v1/events", "{", headers=owner_headers, status=400)
    assert response.content_type == "application/vnd.api+json"
    assert response.json["errors"][0]["status"] == "400"
    testapp.post(
        "/v1/events", "{}", headers={**owner_headers, "Content-Type": "text/plain"}, status=415
    )
    testapp.get("/v1/nothing-here", status=404)
    assert testapp.put("/v1/events", status=405).headers["Allow"] == "GET, POST"
    testapp.get("/v1/events?sort=color", status=400)
    testapp.get("/v1/events?page[size]=101", status=400)
    testapp.get("/v1/events?bogus=1", status=400)


def test_a_resource_of_another_type_is_a_conflict(testapp, owner_headers, dbsession, owner):
    body = jsonapi_document("session", EVENT)
    response = testapp.post_json("/v1/events", body, headers=owner_headers, status=409)
    assert response.json["errors"][0]["source"]["pointer"] == "/data/type"
    event = make_event(dbsession, owner=owner)
    body = jsonapi_document("event", {"name": "x"}, id=event.id + 1)
    testapp.patch_json(f"/v1/events/{event.id}", body, headers=owner_headers, status=409)


def test_oversized_body_is_413_and_changes_nothing(testapp, owner_headers, dbsession, registry):
    limit = registry.settings["openevent.api.max_body_bytes"]
    body = jsonapi_document("event", {**EVENT, "description": "x" * limit})
    response = testapp.post_json("/v1/events", body, headers=owner_headers, status=413)
    assert response.json["errors"][0]["code"] == "payload-too-large"
    assert dbsession.query(Event).count() == 0


def test_media_type_parameters_other_than_ext_and_profile_are_415(testapp, owner_headers):
    headers = {**owner_headers, "Content-Type": "application/vnd.api+json; charset=utf-8"}
    testapp.post_json("/v1/events", jsonapi_document("event", EVENT), headers=headers, status=415)
    headers["Content-Type"] = 'application/vnd.api+json; profile="https://example.org/p"'
    testapp.post_json("/v1/events", jsonapi_document("event", EVENT), headers=headers, status=201)


@pytest.mark.parametrize(
    "body",
    [
        '{"data": []}',
        '{"data": {"attributes": {}}}',
        '{"data": {"type": "event", "attributes": []}}',
        "null",
        '"text"',
    ],
)
def test_malformed_documents_are_400(testapp, owner_headers, body, dbsession):
    response = testapp.post("/v1/events", body, headers=owner_headers, status=400)
    assert response.json["errors"][0]["source"]["pointer"].startswith("/data")
    assert dbsession.query(Event).count() == 0
