from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from openevent.models import EventRole, EventState, Role, SessionState, Speaker
from openevent.testing import (
    JSONAPI_HEADERS,
    jsonapi_document,
    make_event,
    make_session,
    make_speaker,
    make_user,
)

SPEAKER = {
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "photo-url": "https://example.org/ada.png",
    "organisation": "Analytical Engines",
    "short-biography": '<p onclick="x()">Poet of <a href="https://example.org">numbers</a></p><script>1</script>',
    "website": "https://ada.example.org",
    "twitter": "https://twitter.com/ada",
    "github": "https://github.com/ada",
    "linkedin": "https://linkedin.com/in/ada",
}


def _create(testapp, headers, event, attributes, status=201):
    body = jsonapi_document("speaker", attributes, event=("event", event.id))
    return testapp.post_json("/v1/speakers", body, headers=headers, status=status)


def _pointers(response) -> list[str]:
    return [error["source"]["pointer"] for error in response.json["errors"]]


def test_create_and_read_a_speaker(testapp, event, headers):
    data = _create(testapp, headers, event, SPEAKER).json["data"]
    attributes = data["attributes"]
    assert attributes["name"] == "Ada Lovelace"
    assert attributes["github"] == "https://github.com/ada"
    assert attributes["short-biography"].startswith('<p>Poet of <a href="https://example.org"')
    assert (
        "script" not in attributes["short-biography"]
        and "onclick" not in attributes["short-biography"]
    )
    assert data["relationships"]["sessions"]["data"] == []
    team_view = testapp.get(f"/v1/speakers/{data['id']}", headers=headers).json["data"]
    assert team_view["attributes"]["email"] == "ada@example.org"


def test_the_public_sees_speakers_but_not_their_email(testapp, dbsession, login, event):
    speaker = make_speaker(dbsession, event, email="ada@example.org")
    stranger = login(make_user(dbsession))
    for caller in ({}, stranger):
        data = testapp.get(f"/v1/speakers/{speaker.id}", headers=caller).json["data"]
        assert data["attributes"]["name"] == "Ada Lovelace"
        assert "email" not in data["attributes"]
        listed = testapp.get(f"/v1/events/{event.id}/speakers", headers=caller).json["data"]
        assert [s["id"] for s in listed] == [str(speaker.id)]
        assert "email" not in listed[0]["attributes"]
    testapp.get(f"/v1/events/{event.id}/speakers?filter[email]=ada@example.org", status=400)


def test_speakers_of_a_draft_event_are_for_its_team(testapp, dbsession, login, owner):
    draft_event = make_event(dbsession, owner=owner)
    speaker = make_speaker(dbsession, draft_event)
    coorganizer = make_user(dbsession)
    dbsession.add(EventRole(event=draft_event, user=coorganizer, role=Role.COORGANIZER))
    dbsession.flush()
    testapp.get(f"/v1/speakers/{speaker.id}", status=404)
    testapp.get(f"/v1/speakers/{speaker.id}", headers=login(make_user(dbsession)), status=404)
    testapp.get(f"/v1/events/{draft_event.id}/speakers", status=404)
    for member in (owner, coorganizer):
        testapp.get(f"/v1/speakers/{speaker.id}", headers=login(member), status=200)


def test_speakers_link_only_to_sessions_the_caller_may_see(testapp, dbsession, event, headers):
    speaker = make_speaker(dbsession, event)
    public = make_session(dbsession, event, state=SessionState.CONFIRMED, speakers=[speaker])
    make_session(dbsession, event, state=SessionState.PENDING, speakers=[speaker])
    make_session(
        dbsession,
        event,
        state=SessionState.ACCEPTED,
        speakers=[speaker],
        deleted_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    url = f"/v1/speakers/{speaker.id}?include=sessions"
    document = testapp.get(url).json
    assert document["data"]["relationships"]["sessions"]["data"] == [
        {"type": "session", "id": str(public.id)}
    ]
    assert [s["id"] for s in document["included"]] == [str(public.id)]
    team_view = testapp.get(url, headers=headers).json
    assert len(team_view["data"]["relationships"]["sessions"]["data"]) == 2
    assert len(team_view["included"]) == 2


def test_sessions_cannot_be_set_from_the_speaker(testapp, dbsession, event, headers):
    session = make_session(dbsession, event)
    body = jsonapi_document(
        "speaker", {"name": "Ada"}, event=("event", event.id), sessions=[("session", session.id)]
    )
    response = testapp.post_json("/v1/speakers", body, headers=headers, status=422)
    assert _pointers(response) == ["/data/relationships/sessions"]


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"name": ""}, "/data/attributes/name"),
        ({"name": None}, "/data/attributes/name"),
        ({"email": "not an address"}, "/data/attributes/email"),
        ({"website": "javascript:alert(1)"}, "/data/attributes/website"),
        ({"github": 1}, "/data/attributes/github"),
        ({"short-biography": {"html": "<p>"}}, "/data/attributes/short-biography"),
        ({"organisation": "x" * 256}, "/data/attributes/organisation"),
        ({"age": 36}, "/data/attributes/age"),
        ({"created-at": "2030-01-01T00:00:00Z"}, "/data/attributes/created-at"),
    ],
)
def test_invalid_speakers_are_422(testapp, dbsession, event, headers, attributes, pointer):
    response = _create(testapp, headers, event, {**SPEAKER, **attributes}, status=422)
    assert _pointers(response) == [pointer]
    assert dbsession.scalars(select(Speaker)).all() == []


def test_writes_need_the_events_team(testapp, dbsession, login, event, owner):
    speaker = make_speaker(dbsession, event)
    body = jsonapi_document("speaker", {"name": "Mine"}, id=speaker.id)
    url = f"/v1/speakers/{speaker.id}"
    _create(testapp, JSONAPI_HEADERS, event, SPEAKER, status=401)
    testapp.patch_json(url, body, headers=JSONAPI_HEADERS, status=401)
    testapp.delete(url, status=401)
    stranger = {**login(make_user(dbsession)), **JSONAPI_HEADERS}
    _create(testapp, stranger, event, SPEAKER, status=403)
    testapp.patch_json(url, body, headers=stranger, status=403)
    testapp.delete(url, headers=stranger, status=403)
    draft_speaker = make_speaker(dbsession, make_event(dbsession, owner=owner))
    draft_body = jsonapi_document("speaker", {"name": "Mine"}, id=draft_speaker.id)
    testapp.patch_json(f"/v1/speakers/{draft_speaker.id}", draft_body, headers=stranger, status=404)
    dbsession.expire_all()
    assert {s.name for s in dbsession.scalars(select(Speaker))} == {"Ada Lovelace"}


def test_trash_restore_and_permanent_delete(testapp, dbsession, event, headers):
    speaker = make_speaker(dbsession, event)
    session = make_session(dbsession, event, state=SessionState.ACCEPTED, speakers=[speaker])
    url, listing = f"/v1/speakers/{speaker.id}", f"/v1/events/{event.id}/speakers"
    testapp.delete(url, headers=headers, status=204)
    testapp.get(url, status=404)
    assert testapp.get(listing, headers=headers).json["data"] == []
    session_data = testapp.get(f"/v1/sessions/{session.id}?include=speakers").json
    assert session_data["data"]["relationships"]["speakers"]["data"] == []
    assert session_data["included"] == []
    trashed = testapp.get(f"{listing}?filter[trashed]=only", headers=headers).json["data"]
    assert [s["id"] for s in trashed] == [str(speaker.id)]
    testapp.get(f"{listing}?filter[trashed]=with", status=404)

    body = jsonapi_document("speaker", {"deleted-at": None}, id=speaker.id)
    testapp.patch_json(url, body, headers=headers, status=200)
    assert [s["id"] for s in testapp.get(listing).json["data"]] == [str(speaker.id)]

    testapp.delete(f"{url}?permanent=true", headers=headers, status=204)
    testapp.get(url, headers=headers, status=404)
    assert dbsession.scalars(select(Speaker)).all() == []


def test_a_trashed_speaker_cannot_be_given_a_session(testapp, dbsession, event, headers):
    speaker = make_speaker(dbsession, event, deleted_at=datetime(2030, 1, 1, tzinfo=UTC))
    body = jsonapi_document(
        "session", {"title": "Talk"}, event=("event", event.id), speakers=[("speaker", speaker.id)]
    )
    response = testapp.post_json("/v1/sessions", body, headers=headers, status=422)
    assert _pointers(response) == ["/data/relationships/speakers/data"]


def test_listing_speakers_costs_the_same_statements_for_3_or_60(
    testapp, dbsession, count_statements, owner, headers
):
    counts = []
    for size in (3, 60):
        event = make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
        speakers = [make_speaker(dbsession, event, name=f"Speaker {i}") for i in range(size)]
        for i in range(size):
            make_session(
                dbsession,
                event,
                state=SessionState.ACCEPTED,
                speakers=[speakers[i], speakers[(i + 1) % size]],
            )
        dbsession.expire_all()
        url = f"/v1/events/{event.id}/speakers?page[size]=100&include=sessions"
        for caller in ({}, headers):
            with count_statements() as statements:
                document = testapp.get(url, headers=caller).json
            assert len(document["data"]) == size
            assert len(document["included"]) == size
            assert all(len(s["relationships"]["sessions"]["data"]) == 2 for s in document["data"])
            counts.append(len(statements))
    assert counts[:2] == counts[2:]
    assert max(counts) <= 10
