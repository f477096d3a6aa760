import pytest
from sqlalchemy import select

from openevent.models import EventRole, Microlocation, Role, SessionState, Track
from openevent.testing import (
    JSONAPI_HEADERS,
    jsonapi_document,
    make_event,
    make_session,
    make_user,
)


def _create(testapp, headers, event, type_, attributes, status=201):
    body = jsonapi_document(type_, attributes, event=("event", event.id))
    return testapp.post_json(f"/v1/{type_}s", body, headers=headers, status=status)


def _pointers(response) -> list[str]:
    return [error["source"]["pointer"] for error in response.json["errors"]]


def test_create_patch_and_list_tracks(testapp, event, headers):
    data = _create(testapp, headers, event, "track", {"name": "Web", "color": "#3572A5"})
    track = data.json["data"]
    assert track["attributes"]["color"] == "#3572a5"
    assert track["relationships"]["event"]["data"] == {"type": "event", "id": str(event.id)}
    body = jsonapi_document("track", {"name": "Open Web"}, id=track["id"])
    testapp.patch_json(f"/v1/tracks/{track['id']}", body, headers=headers, status=200)
    listed = testapp.get(f"/v1/events/{event.id}/tracks").json["data"]
    assert [(t["attributes"]["name"], t["attributes"]["color"]) for t in listed] == [
        ("Open Web", "#3572a5")
    ]


def test_create_and_order_microlocations(testapp, event, headers):
    for name, position in [("Hall B", 2), ("Hall A", 1)]:
        _create(testapp, headers, event, "microlocation", {"name": name, "position": position})
    listed = testapp.get(f"/v1/events/{event.id}/microlocations?sort=position").json["data"]
    assert [m["attributes"]["name"] for m in listed] == ["Hall A", "Hall B"]
    default = _create(testapp, headers, event, "microlocation", {"name": "Foyer"}).json
    assert default["data"]["attributes"]["position"] == 0


@pytest.mark.parametrize(
    ("type_", "attributes", "pointer"),
    [
        ("track", {"name": "Web", "color": "blue"}, "/data/attributes/color"),
        ("track", {"color": "#ffffff"}, "/data/attributes/name"),
        ("track", {"name": ["Web"]}, "/data/attributes/name"),
        ("track", {"name": "Web", "position": 1}, "/data/attributes/position"),
        ("microlocation", {"name": "Hall", "position": -1}, "/data/attributes/position"),
        ("microlocation", {"name": "Hall", "position": "1"}, "/data/attributes/position"),
        ("microlocation", {"name": "Hall", "position": None}, "/data/attributes/position"),
        ("microlocation", {"name": "Hall", "position": 2**40}, "/data/attributes/position"),
        ("microlocation", {"name": "Hall", "deleted-at": None}, "/data/attributes/deleted-at"),
    ],
)
def test_invalid_tracks_and_rooms_are_422(
    testapp, dbsession, event, headers, type_, attributes, pointer
):
    response = _create(testapp, headers, event, type_, attributes, status=422)
    assert _pointers(response) == [pointer]
    assert dbsession.scalars(select(Track)).all() == []
    assert dbsession.scalars(select(Microlocation)).all() == []


def test_tracks_and_rooms_of_a_draft_event_are_for_its_team(testapp, dbsession, login, owner):
    draft_event = make_event(dbsession, owner=owner)
    track = Track(event=draft_event, name="Web")
    room = Microlocation(event=draft_event, name="Hall A")
    coorganizer = make_user(dbsession)
    dbsession.add_all(
        [track, room, EventRole(event=draft_event, user=coorganizer, role=Role.COORGANIZER)]
    )
    dbsession.flush()
    stranger = login(make_user(dbsession))
    for url in (f"/v1/tracks/{track.id}", f"/v1/microlocations/{room.id}"):
        testapp.get(url, status=404)
        testapp.get(url, headers=stranger, status=404)
        testapp.get(url, headers=login(coorganizer), status=200)
    testapp.get(f"/v1/events/{draft_event.id}/tracks", status=404)
    testapp.get(f"/v1/events/{draft_event.id}/microlocations", headers=stranger, status=404)


def test_writes_need_the_events_team(testapp, dbsession, login, event):
    track = Track(event=event, name="Web")
    dbsession.add(track)
    dbsession.flush()
    body = jsonapi_document("track", {"name": "Mine"}, id=track.id)
    stranger = {**login(make_user(dbsession)), **JSONAPI_HEADERS}
    _create(testapp, JSONAPI_HEADERS, event, "track", {"name": "Mine"}, status=401)
    _create(testapp, stranger, event, "track", {"name": "Mine"}, status=403)
    testapp.patch_json(f"/v1/tracks/{track.id}", body, headers=JSONAPI_HEADERS, status=401)
    testapp.patch_json(f"/v1/tracks/{track.id}", body, headers=stranger, status=403)
    testapp.delete(f"/v1/tracks/{track.id}", headers=stranger, status=403)
    dbsession.expire_all()
    assert [t.name for t in dbsession.scalars(select(Track))] == ["Web"]


def test_deleting_a_track_or_room_removes_it_and_unlinks_its_sessions(
    testapp, dbsession, event, headers
):
    track = Track(event=event, name="Web")
    room = Microlocation(event=event, name="Hall A")
    session = make_session(
        dbsession, event, state=SessionState.ACCEPTED, track=track, microlocation=room
    )
    testapp.delete(f"/v1/tracks/{track.id}", headers=headers, status=204)
    testapp.delete(f"/v1/microlocations/{room.id}", headers=headers, status=204)
    testapp.get(f"/v1/tracks/{track.id}", headers=headers, status=404)
    testapp.get(f"/v1/events/{event.id}/tracks?filter[trashed]=only", headers=headers, status=400)
    relationships = testapp.get(f"/v1/sessions/{session.id}").json["data"]["relationships"]
    assert relationships["track"]["data"] is None
    assert relationships["microlocation"]["data"] is None
    assert dbsession.scalars(select(Track)).all() == []
