import pytest

from openevent.models import Event, EventState, EventType
from openevent.testing import JSONAPI_HEADERS, jsonapi_document, make_event, make_user

MEDIA_TYPE = "application/vnd.api+json"


def make_event_type(dbsession, name: str = "Conference") -> EventType:
    event_type = EventType(name=name)
    dbsession.add(event_type)
    dbsession.flush()
    return event_type


@pytest.fixture
def admin_headers(dbsession, login):
    return {**login(make_user(dbsession, is_admin=True)), **JSONAPI_HEADERS}


@pytest.fixture
def user_headers(dbsession, login):
    return {**login(make_user(dbsession)), **JSONAPI_HEADERS}


def test_anyone_lists_and_reads_event_types(testapp, dbsession):
    meetup = make_event_type(dbsession, "Meetup")
    make_event_type(dbsession, "Conference")
    response = testapp.get("/v1/event-types?sort=name")
    assert response.content_type == MEDIA_TYPE
    assert [t["attributes"]["name"] for t in response.json["data"]] == ["Conference", "Meetup"]
    assert response.json["meta"]["count"] == 2
    one = testapp.get(f"/v1/event-types/{meetup.id}").json["data"]
    assert one == {
        "type": "event-type",
        "id": str(meetup.id),
        "attributes": {"name": "Meetup", "slug": "meetup"},
        "links": {"self": f"/v1/event-types/{meetup.id}"},
    }


def test_list_filters_and_pages(testapp, dbsession):
    for name in ("Conference", "Meetup", "Workshop"):
        make_event_type(dbsession, name)
    found = testapp.get("/v1/event-types?filter[slug]=meetup").json["data"]
    assert [t["attributes"]["name"] for t in found] == ["Meetup"]
    page = testapp.get("/v1/event-types?sort=-name&page[size]=2&page[number]=2").json
    assert [t["attributes"]["name"] for t in page["data"]] == ["Conference"]
    testapp.get("/v1/event-types?colour=red", status=400)
    testapp.get("/v1/event-types/12345", status=404)


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Camp, Trip & Retreat", "camp-trip-retreat"),
        ("Networking  Event", "networking-event"),
        ("Class & Training", "class-training"),
    ],
)
def test_admin_creates_an_event_type_with_a_derived_slug(testapp, admin_headers, name, slug):
    body = jsonapi_document("event-type", {"name": name})
    response = testapp.post_json("/v1/event-types", body, headers=admin_headers, status=201)
    data = response.json["data"]
    assert data["attributes"] == {"name": name, "slug": slug}
    assert response.headers["Location"] == f"http://example.com/v1/event-types/{data['id']}"
    assert response.content_type == MEDIA_TYPE


def test_renaming_changes_the_slug(testapp, dbsession, admin_headers):
    event_type = make_event_type(dbsession, "Meetup")
    body = jsonapi_document("event-type", {"name": "Tech Meetup"}, id=event_type.id)
    data = testapp.patch_json(f"/v1/event-types/{event_type.id}", body, headers=admin_headers).json[
        "data"
    ]
    assert data["attributes"] == {"name": "Tech Meetup", "slug": "tech-meetup"}
    dbsession.expire_all()
    assert dbsession.get(EventType, event_type.id).slug == "tech-meetup"


def test_renaming_keeps_its_own_slug_free(testapp, dbsession, admin_headers):
    event_type = make_event_type(dbsession, "Meetup")
    body = jsonapi_document("event-type", {"name": "MEETUP"}, id=event_type.id)
    testapp.patch_json(f"/v1/event-types/{event_type.id}", body, headers=admin_headers, status=200)


@pytest.mark.parametrize(
    "name", ["Camp, Trip & Retreat", "camp trip retreat", "CAMP & TRIP,RETREAT"]
)
def test_a_name_whose_slug_exists_is_409(testapp, dbsession, admin_headers, name):
    make_event_type(dbsession, "Camp, Trip & Retreat")
    body = jsonapi_document("event-type", {"name": name})
    response = testapp.post_json("/v1/event-types", body, headers=admin_headers, status=409)
    (error,) = response.json["errors"]
    assert error["source"] == {"pointer": "/data/attributes/name"}
    assert "camp-trip-retreat" in error["detail"]
    assert dbsession.query(EventType).count() == 1


def test_renaming_to_a_taken_slug_is_409(testapp, dbsession, admin_headers):
    make_event_type(dbsession, "Conference")
    meetup = make_event_type(dbsession, "Meetup")
    body = jsonapi_document("event-type", {"name": "conference"}, id=meetup.id)
    response = testapp.patch_json(
        f"/v1/event-types/{meetup.id}", body, headers=admin_headers, status=409
    )
    assert response.json["errors"][0]["source"] == {"pointer": "/data/attributes/name"}
    dbsession.expire_all()
    assert dbsession.get(EventType, meetup.id).name == "Meetup"


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({}, "/data/attributes/name"),
        ({"name": None}, "/data/attributes/name"),
        ({"name": 42}, "/data/attributes/name"),
        ({"name": "   "}, "/data/attributes/name"),
        ({"name": "& ,"}, "/data/attributes/name"),
        ({"name": "x" * 256}, "/data/attributes/name"),
        ({"name": "Expo", "slug": "expo"}, "/data/attributes/slug"),
        ({"name": "Expo", "colour": "red"}, "/data/attributes/colour"),
    ],
)
def test_invalid_event_types_are_422_with_a_pointer(
    testapp, dbsession, admin_headers, attributes, pointer
):
    body = jsonapi_document("event-type", attributes)
    response = testapp.post_json("/v1/event-types", body, headers=admin_headers, status=422)
    assert pointer in [error["source"]["pointer"] for error in response.json["errors"]]
    assert dbsession.query(EventType).count() == 0


def test_wrong_resource_type_is_409(testapp, admin_headers):
    body = jsonapi_document("event", {"name": "Expo"})
    response = testapp.post_json("/v1/event-types", body, headers=admin_headers, status=409)
    assert response.json["errors"][0]["source"] == {"pointer": "/data/type"}


def test_anonymous_cannot_change_event_types(testapp, dbsession):
    event_type = make_event_type(dbsession)
    url = f"/v1/event-types/{event_type.id}"
    create = jsonapi_document("event-type", {"name": "Expo"})
    rename = jsonapi_document("event-type", {"name": "Expo"}, id=event_type.id)
    testapp.post_json("/v1/event-types", create, headers=JSONAPI_HEADERS, status=401)
    testapp.patch_json(url, rename, headers=JSONAPI_HEADERS, status=401)
    response = testapp.delete(url, status=401)
    assert response.content_type == MEDIA_TYPE
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    dbsession.expire_all()
    assert [t.name for t in dbsession.query(EventType)] == ["Conference"]


def test_users_who_are_not_admins_cannot_change_event_types(testapp, dbsession, user_headers):
    event_type = make_event_type(dbsession)
    url = f"/v1/event-types/{event_type.id}"
    create = jsonapi_document("event-type", {"name": "Expo"})
    rename = jsonapi_document("event-type", {"name": "Expo"}, id=event_type.id)
    testapp.post_json("/v1/event-types", create, headers=user_headers, status=403)
    testapp.patch_json(url, rename, headers=user_headers, status=403)
    response = testapp.delete(url, headers=user_headers, status=403)
    assert response.json["errors"][0]["code"] == "forbidden"
    dbsession.expire_all()
    assert [t.name for t in dbsession.query(EventType)] == ["Conference"]


def test_admin_deletes_an_event_type_and_its_events_keep_going_without_one(
    testapp, dbsession, admin_headers
):
    event_type = make_event_type(dbsession)
    other = make_event_type(dbsession, "Meetup")
    event = make_event(dbsession, event_type=event_type)
    unrelated = make_event(dbsession, event_type=other)
    event_id, unrelated_id = event.id, unrelated.id
    testapp.delete(f"/v1/event-types/{event_type.id}", headers=admin_headers, status=204)
    testapp.get(f"/v1/event-types/{event_type.id}", status=404)
    dbsession.expire_all()
    assert dbsession.get(Event, event_id).event_type_id is None
    assert dbsession.get(Event, unrelated_id).event_type_id == other.id


def test_deleted_type_disappears_from_the_event_document(testapp, dbsession, admin_headers):
    event_type = make_event_type(dbsession)
    event = make_event(dbsession, event_type=event_type, state=EventState.PUBLISHED)
    testapp.delete(f"/v1/event-types/{event_type.id}", headers=admin_headers, status=204)
    data = testapp.get(f"/v1/events/{event.id}").json["data"]
    assert data["relationships"]["event-type"] == {"data": None}


# Events link to their type.


EVENT = {
    "name": "FOSSASIA Summit",
    "timezone": "Asia/Singapore",
    "starts-at": "2017-03-17T09:00:00",
    "ends-at": "2017-03-19T18:00:00",
}


def test_an_event_is_created_with_a_type_and_includes_it(testapp, dbsession, user_headers):
    event_type = make_event_type(dbsession)
    body = jsonapi_document("event", EVENT, event_type=("event-type", event_type.id))
    created = testapp.post_json("/v1/events", body, headers=user_headers, status=201).json
    linkage = {"type": "event-type", "id": str(event_type.id)}
    assert created["data"]["relationships"]["event-type"] == {"data": linkage}
    event_id = created["data"]["id"]
    document = testapp.get(f"/v1/events/{event_id}?include=event-type", headers=user_headers).json
    assert document["included"] == [
        {
            "type": "event-type",
            "id": str(event_type.id),
            "attributes": {"name": "Conference", "slug": "conference"},
            "links": {"self": f"/v1/event-types/{event_type.id}"},
        }
    ]


def test_an_events_type_is_changed_and_cleared(testapp, dbsession, login):
    owner = make_user(dbsession)
    headers = {**login(owner), **JSONAPI_HEADERS}
    conference, meetup = make_event_type(dbsession), make_event_type(dbsession, "Meetup")
    event = make_event(dbsession, owner=owner, event_type=conference)
    url = f"/v1/events/{event.id}"
    body = jsonapi_document("event", id=event.id, event_type=("event-type", meetup.id))
    data = testapp.patch_json(url, body, headers=headers).json["data"]
    assert data["relationships"]["event-type"]["data"]["id"] == str(meetup.id)
    body = jsonapi_document("event", id=event.id, event_type=None)
    data = testapp.patch_json(url, body, headers=headers).json["data"]
    assert data["relationships"]["event-type"] == {"data": None}
    dbsession.expire_all()
    assert dbsession.get(Event, event.id).event_type_id is None


@pytest.mark.parametrize(
    "linkage",
    [{"type": "event-type", "id": "9999"}, {"type": "event", "id": "1"}, {"type": "event-type"}],
)
def test_an_unknown_or_malformed_type_on_an_event_is_422(testapp, dbsession, login, linkage):
    owner = make_user(dbsession)
    event = make_event(dbsession, owner=owner)
    body = {
        "data": {
            "type": "event",
            "id": str(event.id),
            "relationships": {"event-type": {"data": linkage}},
        }
    }
    response = testapp.patch_json(
        f"/v1/events/{event.id}", body, headers={**login(owner), **JSONAPI_HEADERS}, status=422
    )
    assert response.json["errors"][0]["source"] == {
        "pointer": "/data/relationships/event-type/data"
    }


def test_listing_events_with_their_types_costs_a_fixed_number_of_statements(
    testapp, dbsession, count_statements
):
    def list_events():
        with count_statements() as statements:
            data = testapp.get("/v1/events?page[size]=100").json["data"]
        return data, len(statements)

    make_event(dbsession, state=EventState.PUBLISHED, event_type=make_event_type(dbsession, "A"))
    _, few = list_events()
    for name in ("B", "C", "D", "E"):
        make_event(
            dbsession, state=EventState.PUBLISHED, event_type=make_event_type(dbsession, name)
        )
    data, many = list_events()
    assert len({event["relationships"]["event-type"]["data"]["id"] for event in data}) == 5
    assert many == few
