"""A plugin's collection, declared with openevent.api.plugin, behaves as the core's own.

The sample plugin (tests/plugin_dist) declares ``/v1/events/{id}/session-title-changes`` in a
few lines (openevent_sample_plugin/resources.py). Each test below runs the same assertions on it
and on ``/v1/events/{id}/sessions``: pages and their links, filters, sorting, sparse fieldsets,
400 for an unknown or bad parameter, times in the event's timezone, the statements a page
costs, and the OpenAPI entry. Who may read it (its own permission) is tested at the end.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from openevent.models import EventPlugin, EventRole, EventState, Role, SessionState
from openevent.testing import JSONAPI_HEADERS, make_event, make_session, make_user

T0 = datetime(2030, 3, 17, 1, 0, tzinfo=UTC)  # 09:00 in Singapore, the events' timezone


def _title_change(dbsession, event, text, time):
    from openevent_sample_plugin.models import SessionTitleChange  # installed for the run

    row = SessionTitleChange(
        event=event,
        session_id=1,
        old_title="Draft title",
        new_title=text,
        changed_at=time,
        message_id=secrets.token_hex(8),
    )
    dbsession.add(row)
    dbsession.flush()
    return row


@dataclass(frozen=True)
class Collection:
    plural: str
    type: str
    text: str  # a text attribute, filterable and sortable
    time: str  # a time attribute, filterable and sortable
    make: Callable  # make(dbsession, event, text, time) adds a row the team sees

    def url(self, event) -> str:
        return f"/v1/events/{event.id}/{self.plural}"


COLLECTIONS = {
    "core": Collection(
        "sessions",
        "session",
        "title",
        "starts-at",
        lambda db, event, text, time: make_session(
            db, event, title=text, starts_at=time, state=SessionState.ACCEPTED
        ),
    ),
    "plugin": Collection(
        "session-title-changes", "session-title-change", "new-title", "changed-at", _title_change
    ),
}


@pytest.fixture(params=list(COLLECTIONS))
def collection(request) -> Collection:
    return COLLECTIONS[request.param]


@pytest.fixture
def rows(dbsession, event, collection):
    """Five rows, B D A E C, an hour apart."""
    return [
        collection.make(dbsession, event, text, T0 + timedelta(hours=i))
        for i, text in enumerate("BDAEC")
    ]


def _texts(document, collection) -> list[str]:
    return [item["attributes"][collection.text] for item in document["data"]]


def test_pages_links_meta_and_jsonapi(testapp, event, headers, collection, rows):
    url = collection.url(event)
    document = testapp.get(
        f"{url}?sort={collection.text}&page[size]=2&page[number]=2", headers=headers
    ).json

    def page(number):
        query = [("sort", collection.text), ("page[number]", number), ("page[size]", 2)]
        return f"{url}?{urlencode(query)}"

    assert _texts(document, collection) == ["C", "D"]
    assert document["links"] == {
        "self": page(2),
        "first": page(1),
        "last": page(3),
        "prev": page(1),
        "next": page(3),
    }
    assert document["meta"] == {"count": 5}
    assert document["jsonapi"] == {"version": "1.1"}
    item = document["data"][0]
    assert item["type"] == collection.type
    assert item["links"] == {"self": f"/v1/{collection.plural}/{item['id']}"}
    assert item["relationships"]["event"] == {"data": {"type": "event", "id": str(event.id)}}


def test_the_item_route_answers_the_same_resource_object(testapp, event, headers, collection, rows):
    listed = testapp.get(collection.url(event), headers=headers).json["data"][0]
    document = testapp.get(listed["links"]["self"], headers=headers).json
    assert document == {
        "data": listed,
        "links": listed["links"],
        "jsonapi": {"version": "1.1"},
    }


def test_filters_sorting_and_sparse_fieldsets(testapp, event, headers, collection, rows):
    url = collection.url(event)
    text, time = collection.text, collection.time

    def texts(query):
        return _texts(testapp.get(f"{url}?{query}", headers=headers).json, collection)

    assert texts(f"sort=-{text}") == ["E", "D", "C", "B", "A"]
    assert texts(f"sort={time}") == list("BDAEC")
    assert texts(f"filter[{text}]=D") == ["D"]
    assert texts(f"filter[{text}][in]=A,E&sort={text}") == ["A", "E"]
    # Times in a filter may carry an offset, or be read in the event's timezone (+08:00).
    assert texts(f"filter[{time}][ge]=2030-03-17T11:00:00&sort={text}") == ["A", "C", "E"]
    assert texts(f"filter[{time}][lt]=2030-03-17T02:00:00Z") == ["B"]

    sparse = testapp.get(f"{url}?fields[{collection.type}]={text}", headers=headers).json
    assert all(item["attributes"].keys() == {text} for item in sparse["data"])
    assert all("relationships" not in item for item in sparse["data"])


def test_the_event_is_included_on_request(testapp, event, headers, collection, rows):
    url = f"{collection.url(event)}?include=event&fields[event]=name,timezone"
    document = testapp.get(url, headers=headers).json
    assert document["included"] == [
        {
            "type": "event",
            "id": str(event.id),
            "attributes": {"name": event.name, "timezone": "Asia/Singapore"},
            "links": {"self": f"/v1/events/{event.id}"},
        }
    ]


def test_times_are_shown_in_the_events_timezone(testapp, event, headers, collection, rows):
    document = testapp.get(f"{collection.url(event)}?sort={collection.time}", headers=headers).json
    assert document["data"][0]["attributes"][collection.time] == "2030-03-17T09:00:00+08:00"


@pytest.mark.parametrize(
    "query",
    [
        "color=blue",
        "filter[nope]=1",
        "filter[{text}][lt]=A",
        "filter[{time}]=yesterday",
        "sort=nope",
        "fields[{type}]=nope",
        "fields[nope]=title",
        "include=nope",
        "page[size]=0",
        "page[number]=x",
    ],
)
def test_unknown_and_bad_parameters_are_400_naming_them(
    testapp, event, headers, collection, rows, query
):
    query = query.format(text=collection.text, time=collection.time, type=collection.type)
    response = testapp.get(f"{collection.url(event)}?{query}", headers=headers, status=400)
    [error] = response.json["errors"]
    assert error["source"] == {"parameter": query.partition("=")[0]}


def test_the_item_route_refuses_unknown_parameters(testapp, event, headers, collection, rows):
    response = testapp.get(
        f"/v1/{collection.plural}/{rows[0].id}?page[size]=2", headers=headers, status=400
    )
    assert response.json["errors"][0]["source"] == {"parameter": "page[size]"}


def test_a_page_costs_the_same_statements_for_3_or_30_rows(
    testapp, dbsession, owner, headers, collection, count_statements
):
    counts = []
    for size in (3, 30):
        event = make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
        for i in range(size):
            collection.make(dbsession, event, f"Row {i}", T0)
        dbsession.expire_all()
        with count_statements() as statements:
            document = testapp.get(f"{collection.url(event)}?page[size]=100", headers=headers).json
        assert len(document["data"]) == size
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_the_openapi_entries_match_the_sessions_ones(testapp):
    paths = testapp.get("/v1/openapi.json").json["paths"]
    core_list = paths["/v1/events/{id}/sessions"]["get"]
    plugin_list = paths["/v1/events/{id}/session-title-changes"]["get"]
    core_item = paths["/v1/sessions/{id}"]["get"]
    plugin_item = paths["/v1/session-title-changes/{id}"]["get"]
    for core, plugin in ((core_list, plugin_list), (core_item, plugin_item)):
        assert [p["name"] for p in plugin["parameters"]] == [p["name"] for p in core["parameters"]]
        # The same answers, and those of a read that takes more than seeing the event.
        assert set(plugin["responses"]) == set(core["responses"]) | {"401", "403"}
        assert {"401", "403", "404"} <= set(plugin["responses"])
    schema = plugin_list["responses"]["200"]["content"]["application/vnd.api+json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/session-title-change.collection"}
    [filters] = [
        p["schema"]["properties"] for p in plugin_list["parameters"] if p["name"] == "filter"
    ]
    assert set(filters) == {"session-id", "old-title", "new-title", "changed-at", "user-id"}
    # Read-only: no write routes at all.
    assert set(paths["/v1/session-title-changes/{id}"]) == {"get"}
    assert "/v1/session-title-changes" not in paths


# Who may read it: the owners and organizers (the plugin's permission sample:read-title-changes).
# To anyone off the team the log is not there (404), as a draft is not; coorganizers, on the
# team but without the permission, get 403.

CALLERS = ["anonymous", "stranger", "coorganizer", "organizer", "owner"]
EXPECTED = {"anonymous": 404, "stranger": 404, "coorganizer": 403, "organizer": 200, "owner": 200}


@pytest.fixture
def callers(dbsession, event, owner, token_for):
    """Request headers of each kind of caller of ``event``."""
    headers = {"anonymous": {}, "owner": token_for(owner)}
    headers["stranger"] = token_for(make_user(dbsession, password=None))
    for name, role in (("organizer", Role.ORGANIZER), ("coorganizer", Role.COORGANIZER)):
        user = make_user(dbsession, password=None)
        dbsession.add(EventRole(event=event, user=user, role=role))
        headers[name] = token_for(user)
    dbsession.flush()
    return headers


@pytest.mark.parametrize("state", [EventState.PUBLISHED, EventState.DRAFT])
@pytest.mark.parametrize("caller", CALLERS)
def test_the_log_is_for_owners_and_organizers(testapp, dbsession, event, callers, caller, state):
    event.state = state
    row = _title_change(dbsession, event, "New", T0)
    for url in (COLLECTIONS["plugin"].url(event), f"/v1/session-title-changes/{row.id}"):
        response = testapp.get(url, headers=callers[caller], expect_errors=True)
        assert response.status_int == EXPECTED[caller], response.text


def test_a_bad_token_is_401_and_an_unknown_row_or_event_404(testapp, event, headers):
    bad = {"Authorization": "Bearer not-a-token"}
    testapp.get(COLLECTIONS["plugin"].url(event), headers=bad, status=401)
    testapp.get("/v1/events/999999/session-title-changes", headers=headers, status=404)
    testapp.get("/v1/session-title-changes/999999", headers=headers, status=404)
    testapp.get("/v1/session-title-changes/x", headers=headers, status=404)


def test_no_write_routes(testapp, event, headers, dbsession):
    row = _title_change(dbsession, event, "New", T0)
    item = f"/v1/session-title-changes/{row.id}"
    body = {"data": {"type": "session-title-change", "id": str(row.id), "attributes": {}}}
    h = {**headers, **JSONAPI_HEADERS}
    assert testapp.patch_json(item, body, headers=h, status=405).headers["Allow"] == "GET"
    testapp.delete(item, headers=h, status=405)
    testapp.post_json("/v1/session-title-changes", body, headers=h, status=404)


# Turned off for an event, the plugin's routes answer 404 by themselves: its views have no
# check of their own (openevent_sample_plugin/resources.py only declares them).


def _switch(testapp, headers, event, enabled: bool):
    body = {"data": [{"type": "event-plugin", "id": "sample", "attributes": {"enabled": enabled}}]}
    testapp.patch_json(f"/v1/events/{event.id}/plugins", body, headers=headers, status=200)


def test_turned_off_for_an_event_every_route_of_the_plugin_answers_404(
    testapp, dbsession, event, headers
):
    from openevent_sample_plugin.models import SampleNote

    change = _title_change(dbsession, event, "New", T0)
    note = SampleNote(event=event, text="Bring the badges")
    dbsession.add(note)
    dbsession.flush()
    h = {**headers, **JSONAPI_HEADERS}
    note_body = {"data": {"type": "sample-note", "id": str(note.id), "attributes": {"text": "Hi"}}}
    new_note = {
        "data": {
            "type": "sample-note",
            "attributes": {"text": "Hello"},
            "relationships": {"event": {"data": {"type": "event", "id": str(event.id)}}},
        }
    }
    requests = [
        ("GET", f"/v1/events/{event.id}/session-title-changes", None),
        ("GET", f"/v1/session-title-changes/{change.id}", None),
        ("GET", f"/v1/events/{event.id}/sample-notes", None),
        ("GET", f"/v1/sample-notes/{note.id}", None),
        ("PATCH", f"/v1/sample-notes/{note.id}", note_body),
        ("POST", "/v1/sample-notes", new_note),
        ("DELETE", f"/v1/sample-notes/{note.id}", None),
    ]

    def statuses():
        return [
            testapp.request(
                url,
                method=method,
                headers=h,
                body=None if body is None else testapp.JSONEncoder().encode(body).encode(),
                expect_errors=True,
            ).status_int
            for method, url, body in requests
        ]

    _switch(testapp, headers, event, False)
    assert statuses() == [404] * len(requests)
    dbsession.expire_all()
    assert dbsession.get(SampleNote, note.id).text == "Bring the badges"  # nothing written
    assert dbsession.query(SampleNote).count() == 1
    # The core's routes are not the plugin's.
    testapp.get(f"/v1/events/{event.id}/sessions", headers=h, status=200)

    _switch(testapp, headers, event, True)
    assert statuses() == [200, 200, 200, 200, 200, 201, 204]


def test_the_permission_check_comes_first_so_the_switch_does_not_leak(
    testapp, dbsession, event, headers, callers
):
    # Callers who may not read the log get the same answer whether the plugin is on or off.
    url = COLLECTIONS["plugin"].url(event)
    dbsession.add(EventPlugin(event_id=event.id, plugin="sample", enabled=False))
    dbsession.flush()
    for caller in ("anonymous", "stranger", "coorganizer"):
        response = testapp.get(url, headers=callers[caller], expect_errors=True)
        assert response.status_int == EXPECTED[caller]
    testapp.get(url, headers=callers["owner"], status=404)
