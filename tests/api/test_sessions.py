from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from openevent.models import (
    EventRole,
    EventState,
    Microlocation,
    Role,
    Session,
    SessionState,
    Speaker,
    Track,
)
from openevent.testing import (
    JSONAPI_HEADERS,
    jsonapi_document,
    make_event,
    make_session,
    make_speaker,
    make_user,
)

T0 = datetime(2030, 3, 17, 1, 0, tzinfo=UTC)  # 09:00 in Singapore, the events' timezone


def _create(testapp, headers, event, attributes=None, status=201, **relationships):
    body = jsonapi_document(
        "session",
        {"title": "Keynote", **(attributes or {})},
        event=("event", event.id),
        **relationships,
    )
    return testapp.post_json("/v1/sessions", body, headers=headers, status=status).json


def _patch(testapp, headers, session_id, attributes=None, status=200, **relationships):
    body = jsonapi_document("session", attributes, id=session_id, **relationships)
    return testapp.patch_json(f"/v1/sessions/{session_id}", body, headers=headers, status=status)


def _pointers(response) -> list[str]:
    return [error["source"]["pointer"] for error in response.json["errors"]]


def test_create_and_read_a_session(testapp, dbsession, event, headers):
    speaker = make_speaker(dbsession, event)
    track = Track(event=event, name="Web")
    room = Microlocation(event=event, name="Hall A")
    dbsession.add_all([track, room])
    dbsession.flush()
    data = _create(
        testapp,
        headers,
        event,
        {
            "subtitle": "Opening",
            "language": "en",
            "level": "beginner",
            "state": "accepted",
            "starts-at": "2030-03-17T09:00:00",
            "ends-at": "2030-03-17T01:45:00Z",
        },
        track=("track", track.id),
        microlocation=("microlocation", room.id),
        speakers=[("speaker", speaker.id)],
    )["data"]
    attributes = data["attributes"]
    assert attributes["title"] == "Keynote"
    assert attributes["state"] == "accepted"
    assert attributes["starts-at"] == "2030-03-17T09:00:00+08:00"
    assert attributes["ends-at"] == "2030-03-17T09:45:00+08:00"
    assert attributes["deleted-at"] is None
    relationships = data["relationships"]
    assert relationships["event"]["data"] == {"type": "event", "id": str(event.id)}
    assert relationships["track"]["data"] == {"type": "track", "id": str(track.id)}
    assert relationships["microlocation"]["data"]["id"] == str(room.id)
    assert relationships["speakers"]["data"] == [{"type": "speaker", "id": str(speaker.id)}]
    read = testapp.get(f"/v1/sessions/{data['id']}").json["data"]
    assert read["attributes"] == attributes
    stored = dbsession.get(Session, int(data["id"]))
    assert stored.starts_at == T0 and stored.speakers == [speaker]


def test_new_session_is_a_draft_hidden_from_the_public(testapp, event, headers):
    data = _create(testapp, headers, event)["data"]
    assert data["attributes"]["state"] == "draft"
    testapp.get(f"/v1/sessions/{data['id']}", status=404)
    assert testapp.get(f"/v1/events/{event.id}/sessions").json["meta"]["count"] == 0


@pytest.mark.parametrize(
    ("state", "public"),
    [(state, state in (SessionState.ACCEPTED, SessionState.CONFIRMED)) for state in SessionState],
)
def test_the_public_sees_accepted_and_confirmed_sessions(
    testapp, dbsession, login, event, state, public
):
    session = make_session(dbsession, event, state=state)
    stranger = login(make_user(dbsession))
    for caller in ({}, stranger):
        testapp.get(f"/v1/sessions/{session.id}", headers=caller, status=200 if public else 404)
        listed = testapp.get(f"/v1/events/{event.id}/sessions", headers=caller).json["data"]
        assert [s["id"] for s in listed] == ([str(session.id)] if public else [])


@pytest.mark.parametrize("role", [Role.OWNER, Role.ORGANIZER, Role.COORGANIZER])
def test_the_team_sees_every_session(testapp, dbsession, login, event, role):
    member = make_user(dbsession)
    dbsession.add(EventRole(event=event, user=member, role=role))
    draft = make_session(dbsession, event)
    testapp.get(f"/v1/sessions/{draft.id}", headers=login(member), status=200)
    listed = testapp.get(f"/v1/events/{event.id}/sessions", headers=login(member)).json
    assert [s["id"] for s in listed["data"]] == [str(draft.id)]


def test_accepted_sessions_of_a_draft_event_are_hidden(testapp, dbsession, login, owner):
    draft_event = make_event(dbsession, owner=owner)
    session = make_session(dbsession, draft_event, state=SessionState.ACCEPTED)
    testapp.get(f"/v1/sessions/{session.id}", status=404)
    testapp.get(f"/v1/events/{draft_event.id}/sessions", status=404)
    testapp.get(f"/v1/sessions/{session.id}", headers=login(owner), status=200)


def test_coorganizer_can_write_the_program(testapp, dbsession, login, event):
    coorganizer = make_user(dbsession)
    dbsession.add(EventRole(event=event, user=coorganizer, role=Role.COORGANIZER))
    dbsession.flush()
    headers = {**login(coorganizer), **JSONAPI_HEADERS}
    session_id = _create(testapp, headers, event)["data"]["id"]
    _patch(testapp, headers, session_id, {"title": "Closing"})
    testapp.delete(f"/v1/sessions/{session_id}", headers=headers, status=204)


def test_anonymous_writes_are_401(testapp, dbsession, event):
    session = make_session(dbsession, event, state=SessionState.ACCEPTED)
    _create(testapp, JSONAPI_HEADERS, event, status=401)
    _patch(testapp, JSONAPI_HEADERS, session.id, {"title": "Mine"}, status=401)
    testapp.delete(f"/v1/sessions/{session.id}", status=401)
    dbsession.expire_all()
    assert session.title == "Keynote" and session.deleted_at is None


def test_other_users_cannot_write_a_published_events_program(testapp, dbsession, login, event):
    session = make_session(dbsession, event, state=SessionState.ACCEPTED)
    stranger = {**login(make_user(dbsession)), **JSONAPI_HEADERS}
    _create(testapp, stranger, event, status=403)
    _patch(testapp, stranger, session.id, {"title": "Mine"}, status=403)
    testapp.delete(f"/v1/sessions/{session.id}", headers=stranger, status=403)
    dbsession.expire_all()
    assert session.title == "Keynote" and session.deleted_at is None


def test_other_users_find_nothing_in_a_draft_event(testapp, dbsession, login, owner):
    draft_event = make_event(dbsession, owner=owner)
    session = make_session(dbsession, draft_event, state=SessionState.ACCEPTED)
    stranger = {**login(make_user(dbsession)), **JSONAPI_HEADERS}
    _create(testapp, stranger, draft_event, status=404)
    _patch(testapp, stranger, session.id, {"title": "Mine"}, status=404)
    testapp.delete(f"/v1/sessions/{session.id}", headers=stranger, status=404)
    assert dbsession.scalars(select(Session.title)).all() == ["Keynote"]


def test_abstracts_are_sanitized(testapp, event, headers):
    dirty = (
        '<p onclick="steal()">Hello <a href="https://fossasia.org">FOSSASIA</a></p>'
        '<script>alert(1)</script><a href="javascript:alert(2)">click</a>'
    )
    data = _create(testapp, headers, event, {"long-abstract": dirty, "short-abstract": dirty})
    for name in ("long-abstract", "short-abstract"):
        clean = data["data"]["attributes"][name]
        assert "<script" not in clean and "alert" not in clean and "onclick" not in clean
        assert clean.startswith('<p>Hello <a href="https://fossasia.org"')
        assert "FOSSASIA</a></p>" in clean


def test_abstract_preview_comes_from_the_short_abstract_or_else_the_long_one(
    testapp, event, headers
):
    long_text = "<p>Deep &amp; wide.</p>" + "<p>" + "word " * 100 + "</p>"
    data = _create(testapp, headers, event, {"long-abstract": long_text})["data"]
    preview = data["attributes"]["abstract-preview"]
    assert preview.startswith("Deep & wide. word word")
    assert preview.endswith("word…") and len(preview) <= 200
    data = _patch(testapp, headers, data["id"], {"short-abstract": "<b>Short</b> one"}).json
    assert data["data"]["attributes"]["abstract-preview"] == "Short one"
    data = _patch(
        testapp, headers, data["data"]["id"], {"short-abstract": None, "long-abstract": "<p> </p>"}
    ).json
    assert data["data"]["attributes"]["abstract-preview"] is None
    body = jsonapi_document("session", {"abstract-preview": "mine"}, id=data["data"]["id"])
    response = testapp.patch_json(
        f"/v1/sessions/{data['data']['id']}", body, headers=headers, status=422
    )
    assert _pointers(response) == ["/data/attributes/abstract-preview"]


def test_last_modified_at_moves_only_when_something_changes(testapp, dbsession, event, headers):
    speaker = make_speaker(dbsession, event)
    created = _create(
        testapp,
        headers,
        event,
        {
            "subtitle": "Opening",
            "starts-at": "2030-03-17T09:00:00",
            "ends-at": "2030-03-17T10:00:00",
            "long-abstract": '<p>Hi <a href="https://x.org">x</a></p>',
        },
        speakers=[("speaker", speaker.id)],
    )["data"]
    before = created["attributes"]["last-modified-at"]
    same = {
        k: created["attributes"][k]
        for k in ("title", "subtitle", "starts-at", "ends-at", "long-abstract", "state")
    }
    unchanged = _patch(testapp, headers, created["id"], same, speakers=[("speaker", speaker.id)])
    assert unchanged.json["data"]["attributes"]["last-modified-at"] == before
    changed = _patch(testapp, headers, created["id"], {"title": "Closing"})
    moved = changed.json["data"]["attributes"]["last-modified-at"]
    assert datetime.fromisoformat(moved) > datetime.fromisoformat(before)
    body = jsonapi_document(
        "session", {"last-modified-at": "2030-01-01T00:00:00Z"}, id=created["id"]
    )
    response = testapp.patch_json(
        f"/v1/sessions/{created['id']}", body, headers=headers, status=422
    )
    assert _pointers(response) == ["/data/attributes/last-modified-at"]


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"ends-at": "2030-03-17T09:00:00"}, "/data/attributes/ends-at"),
        ({"starts-at": "2030-03-17T10:30:00"}, "/data/attributes/ends-at"),
        ({"starts-at": "next week"}, "/data/attributes/starts-at"),
        ({"state": "archived"}, "/data/attributes/state"),
        ({"state": None}, "/data/attributes/state"),
        ({"title": 42}, "/data/attributes/title"),
        ({"title": " "}, "/data/attributes/title"),
        ({"speakers": "ada"}, "/data/attributes/speakers"),
        ({"long-abstract": ["<p>"]}, "/data/attributes/long-abstract"),
    ],
)
def test_invalid_patches_are_422_and_change_nothing(
    testapp, dbsession, event, headers, attributes, pointer
):
    session = make_session(dbsession, event, starts_at=T0, ends_at=T0 + timedelta(hours=1))
    response = _patch(testapp, headers, session.id, attributes, status=422)
    assert _pointers(response) == [pointer]
    dbsession.expire_all()
    assert session.title == "Keynote" and session.starts_at == T0


def test_create_needs_a_title_and_ends_after_start(testapp, dbsession, event, headers):
    body = jsonapi_document(
        "session",
        {"starts-at": "2030-03-17T10:00:00", "ends-at": "2030-03-17T09:00:00"},
        event=("event", event.id),
    )
    response = testapp.post_json("/v1/sessions", body, headers=headers, status=422)
    assert _pointers(response) == ["/data/attributes/title"]
    response = _create(
        testapp,
        headers,
        event,
        {"starts-at": "2030-03-17T10:00:00", "ends-at": "2030-03-17T09:00:00"},
        status=422,
    )
    assert [e["source"]["pointer"] for e in response["errors"]] == ["/data/attributes/ends-at"]
    assert dbsession.scalars(select(Session)).all() == []


def test_related_rows_must_belong_to_the_same_event(testapp, dbsession, owner, event, headers):
    other = make_event(dbsession, owner=owner)
    speaker = make_speaker(dbsession, other)
    track = Track(event=other, name="Elsewhere")
    dbsession.add(track)
    dbsession.flush()
    response = _create(testapp, headers, event, speakers=[("speaker", speaker.id)], status=422)
    assert [e["source"]["pointer"] for e in response["errors"]] == [
        "/data/relationships/speakers/data"
    ]
    response = _create(testapp, headers, event, track=("track", track.id), status=422)
    assert [e["source"]["pointer"] for e in response["errors"]] == [
        "/data/relationships/track/data"
    ]
    assert dbsession.scalars(select(Session)).all() == []


@pytest.mark.parametrize(
    "relationships",
    [
        {"speakers": {"data": [{"type": "speaker", "id": "999999"}]}},
        {"speakers": {"data": [{"type": "track", "id": "1"}]}},
        {"speakers": {"data": {"type": "speaker", "id": "1"}}},
        {"track": {"data": {"type": "track", "id": "abc"}}},
        {"track": {"data": [1]}},
        {"track": "nope"},
        {"event": {"data": {"type": "event", "id": "1"}}},
        {"tickets": {"data": []}},
    ],
)
def test_bad_relationships_on_patch_are_422(testapp, dbsession, event, headers, relationships):
    session = make_session(dbsession, event)
    body = {"data": {"type": "session", "id": str(session.id), "relationships": relationships}}
    response = testapp.patch_json(f"/v1/sessions/{session.id}", body, headers=headers, status=422)
    name = next(iter(relationships))
    assert all(p.startswith(f"/data/relationships/{name}") for p in _pointers(response))


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"type": "session", "attributes": {"title": "x"}}},  # no event
        {"data": {"type": "session", "relationships": {"event": {"data": {"type": "event"}}}}},
        {"data": {"type": "session", "relationships": {"event": {"data": "1"}}}},
        {"data": {"type": "session", "relationships": {"event": None}}},
    ],
)
def test_create_without_a_usable_event_is_422(testapp, headers, body):
    response = testapp.post_json("/v1/sessions", body, headers=headers, status=422)
    assert _pointers(response)[0].startswith("/data/relationships/event")


def test_bad_documents_and_ids_are_never_500(testapp, dbsession, event, headers):
    session = make_session(dbsession, event)
    testapp.post("/v1/sessions", "[", headers=headers, status=400)
    testapp.post_json("/v1/sessions", {"data": []}, headers=headers, status=400)
    body = jsonapi_document("speaker", {"name": "x"}, event=("event", event.id))
    # JSON:API asks for 409 on a type or id that does not match the endpoint.
    testapp.post_json("/v1/sessions", body, headers=headers, status=409)
    body = jsonapi_document("session", {"title": "x"}, id=session.id + 1)
    testapp.patch_json(f"/v1/sessions/{session.id}", body, headers=headers, status=409)
    testapp.get("/v1/sessions/abc", status=404)
    testapp.get("/v1/sessions/999999", status=404)
    testapp.get(f"/v1/sessions/{session.id}?include=bogus", headers=headers, status=400)
    testapp.get(f"/v1/events/{event.id}/sessions?filter[state]=nope", headers=headers, status=400)
    testapp.get(f"/v1/events/{event.id}/sessions?sort=abstract-preview", status=400)
    testapp.delete(f"/v1/sessions/{session.id}?permanent=maybe", headers=headers, status=400)


def test_trash_restore_and_permanent_delete(testapp, dbsession, event, headers):
    session = make_session(dbsession, event, state=SessionState.CONFIRMED)
    url, listing = f"/v1/sessions/{session.id}", f"/v1/events/{event.id}/sessions"
    testapp.delete(url, headers=headers, status=204)
    testapp.get(url, status=404)
    assert testapp.get(listing).json["data"] == []
    assert testapp.get(listing, headers=headers).json["data"] == []
    trashed = testapp.get(f"{listing}?filter[trashed]=only", headers=headers).json["data"]
    assert [s["id"] for s in trashed] == [str(session.id)]
    assert trashed[0]["attributes"]["deleted-at"] is not None
    testapp.get(f"{listing}?filter[trashed]=only", status=404)

    _patch(testapp, headers, session.id, {"deleted-at": None})
    assert [s["id"] for s in testapp.get(listing).json["data"]] == [str(session.id)]
    response = _patch(
        testapp, headers, session.id, {"deleted-at": "2030-01-01T00:00:00Z"}, status=422
    )
    assert _pointers(response) == ["/data/attributes/deleted-at"]

    testapp.delete(f"{url}?permanent=true", headers=headers, status=204)
    testapp.get(url, headers=headers, status=404)
    assert dbsession.scalars(select(Session)).all() == []


def test_permanently_deleting_a_trashed_session_keeps_its_speakers(
    testapp, dbsession, event, headers
):
    speaker = make_speaker(dbsession, event)
    session = make_session(dbsession, event, speakers=[speaker])
    testapp.delete(f"/v1/sessions/{session.id}", headers=headers, status=204)
    testapp.delete(f"/v1/sessions/{session.id}?permanent=true", headers=headers, status=204)
    dbsession.expire_all()
    assert dbsession.scalars(select(Speaker)).all() == [speaker]
    assert speaker.sessions == []


def test_compound_documents_leave_out_what_the_public_may_not_see(
    testapp, dbsession, event, headers
):
    ada = make_speaker(dbsession, event)
    trashed = make_speaker(dbsession, event, name="Gone", deleted_at=T0)
    track = Track(event=event, name="Web")
    room = Microlocation(event=event, name="Hall A")
    session = make_session(
        dbsession,
        event,
        state=SessionState.ACCEPTED,
        speakers=[ada, trashed],
        track=track,
        microlocation=room,
    )
    make_session(dbsession, event, title="Secret", speakers=[ada])
    include = "?include=speakers,track,microlocation"
    for url in (f"/v1/events/{event.id}/sessions{include}", f"/v1/sessions/{session.id}{include}"):
        document = testapp.get(url).json
        included = {(r["type"], r["id"]) for r in document["included"]}
        assert included == {
            ("speaker", str(ada.id)),
            ("track", str(track.id)),
            ("microlocation", str(room.id)),
        }
        ada_document = next(r for r in document["included"] if r["type"] == "speaker")
        # Included rows carry no to-many linkage (it would load every session of every
        # speaker), so nothing about the draft session can leak through them.
        assert "sessions" not in ada_document.get("relationships", {})
    # The speaker's own document links only the sessions the caller may see.
    public = testapp.get(f"/v1/speakers/{ada.id}").json["data"]
    assert public["relationships"]["sessions"]["data"] == [
        {"type": "session", "id": str(session.id)}
    ]
    team_view = testapp.get(f"/v1/speakers/{ada.id}", headers=headers).json["data"]
    assert len(team_view["relationships"]["sessions"]["data"]) == 2


def test_lists_filter_sort_and_page(testapp, dbsession, event):
    for title, state in [
        ("B", SessionState.ACCEPTED),
        ("A", SessionState.CONFIRMED),
        ("C", SessionState.ACCEPTED),
    ]:
        make_session(dbsession, event, title=title, state=state)
    listing = f"/v1/events/{event.id}/sessions"
    titles = [s["attributes"]["title"] for s in testapp.get(f"{listing}?sort=-title").json["data"]]
    assert titles == ["C", "B", "A"]
    accepted = testapp.get(f"{listing}?filter[state]=accepted&sort=title").json
    assert [s["attributes"]["title"] for s in accepted["data"]] == ["B", "C"]
    page = testapp.get(f"{listing}?sort=title&page[size]=2&page[number]=2&fields[session]=title")
    assert page.json["data"][0]["attributes"] == {"title": "C"}
    assert page.json["meta"]["count"] == 3


def _program(dbsession, event, count):
    speakers = [make_speaker(dbsession, event, name=f"Speaker {i}") for i in range(count)]
    for i in range(count):
        track = Track(event=event, name=f"Track {i}")
        room = Microlocation(event=event, name=f"Room {i}")
        make_session(
            dbsession,
            event,
            title=f"Talk {i}",
            state=SessionState.ACCEPTED,
            track=track,
            microlocation=room,
            speakers=[speakers[i], speakers[(i + 1) % count]],
        )
    dbsession.expire_all()


def test_listing_sessions_costs_the_same_statements_for_3_or_60(
    testapp, dbsession, count_statements, owner, headers
):
    counts = []
    for size in (3, 60):
        event = make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
        _program(dbsession, event, size)
        url = f"/v1/events/{event.id}/sessions?page[size]=100&include=speakers,track"
        for caller in ({}, headers):
            with count_statements() as statements:
                document = testapp.get(url, headers=caller).json
            assert len(document["data"]) == size
            assert len(document["included"]) == 2 * size
            counts.append(len(statements))
    assert counts[:2] == counts[2:]
    # The event (with its team), the page with its total, the speakers, the tracks; the team's
    # caller adds its token and user.
    assert counts[:2] == [4, 6]


def test_the_total_is_right_on_every_page_and_counted_apart_only_past_the_last(
    testapp, dbsession, count_statements, event
):
    for i in range(5):
        make_session(dbsession, event, title=f"Talk {i}", state=SessionState.ACCEPTED)
    make_session(dbsession, event, title="Draft", state=SessionState.DRAFT)
    listing = f"/v1/events/{event.id}/sessions?page[size]=2"

    def counts(statements) -> int:
        return sum(s.lstrip().upper().startswith("SELECT COUNT(") for s in statements)

    counted_apart = []
    for number, titles in [(1, 2), (3, 1), (4, 0)]:
        with count_statements() as statements:
            document = testapp.get(f"{listing}&page[number]={number}").json
        assert len(document["data"]) == titles
        assert document["meta"]["count"] == 5
        assert document["links"]["last"].endswith("page%5Bnumber%5D=3&page%5Bsize%5D=2")
        counted_apart.append(counts(statements))
    # Past the last page no row carries the total: a statement of its own counts the rows.
    assert counted_apart == [0, 0, 1]
    with count_statements() as statements:
        nothing = testapp.get(f"{listing}&filter[title]=none").json
    assert nothing["data"] == [] and nothing["meta"]["count"] == 0
    assert nothing["links"]["last"] == nothing["links"]["first"]
    # An empty first page is a total of 0, known without counting.
    assert counts(statements) == 0
