"""What Open Event exports carry, through the API: session types, sponsors, social links, and
the attributes of events, sessions, speakers, tracks and rooms that came with them."""

import pytest
from sqlalchemy import select

from openevent.changes import (
    SessionTypeCreated,
    SessionTypeUpdated,
    SocialLinkDeleted,
    SpeakerUpdated,
    SponsorCreated,
)
from openevent.models import (
    Event,
    EventState,
    Microlocation,
    Session,
    SessionState,
    SessionType,
    SocialLink,
    Speaker,
    Sponsor,
    Track,
)
from openevent.testing import jsonapi_document, make_event, make_session, make_speaker

SCRIPT = '<p onclick="x()">Hello <a href="javascript:alert(1)">you</a></p><script>1</script>'


def _create(testapp, headers, event, type_, plural, attributes, status=201, **relationships):
    body = jsonapi_document(type_, attributes, event=("event", event.id), **relationships)
    return testapp.post_json(f"/v1/{plural}", body, headers=headers, status=status)


def _patch(testapp, headers, type_, plural, id, attributes, status=200, **relationships):
    body = jsonapi_document(type_, attributes, id=id, **relationships)
    return testapp.patch_json(f"/v1/{plural}/{id}", body, headers=headers, status=status)


def _pointers(response) -> list[str]:
    return [error["source"]["pointer"] for error in response.json["errors"]]


def _sanitized(html: str) -> bool:
    return html.startswith("<p>Hello") and not any(
        bad in html for bad in ("script", "onclick", "javascript")
    )


# Session types


def test_session_types_store_their_length_in_minutes_and_show_it_as_hh_mm(
    testapp, dbsession, event, headers
):
    created = _create(
        testapp,
        headers,
        event,
        "session-type",
        "session-types",
        {"name": "Workshop", "length": "01:30"},
    ).json["data"]
    assert created["attributes"]["length"] == "01:30"
    assert dbsession.get(SessionType, int(created["id"])).length_minutes == 90
    _patch(testapp, headers, "session-type", "session-types", created["id"], {"length": "24:00"})
    _create(
        testapp, headers, event, "session-type", "session-types", {"name": "Talk", "length": "0:25"}
    )
    listing = f"/v1/events/{event.id}/session-types"
    read = testapp.get(f"{listing}?sort=length").json["data"]
    assert [(t["attributes"]["name"], t["attributes"]["length"]) for t in read] == [
        ("Talk", "00:25"),
        ("Workshop", "24:00"),
    ]
    longer = testapp.get(f"{listing}?filter[length][gt]=01:00").json["data"]
    assert [t["attributes"]["name"] for t in longer] == ["Workshop"]
    testapp.get(f"{listing}?filter[length][gt]=an hour", status=400)


@pytest.mark.parametrize(
    "length",
    ["00:00", "24:01", "99:59", "01:60", "1.30", "01.00", "", "90", 90, None, True, "\uff11:30"],
)
def test_session_type_lengths_out_of_range_or_form_are_422(
    testapp, dbsession, event, headers, length
):
    response = _create(
        testapp,
        headers,
        event,
        "session-type",
        "session-types",
        {"name": "Talk", "length": length},
        status=422,
    )
    assert _pointers(response) == ["/data/attributes/length"]
    assert dbsession.scalars(select(SessionType)).all() == []


def test_session_types_need_a_name_and_a_length(testapp, event, headers):
    response = _create(testapp, headers, event, "session-type", "session-types", {}, status=422)
    assert sorted(_pointers(response)) == ["/data/attributes/length", "/data/attributes/name"]


def test_sessions_link_a_session_type_of_their_own_event(testapp, dbsession, owner, event, headers):
    talk = SessionType(event=event, name="Talk", length_minutes=25)
    elsewhere = SessionType(event=make_event(dbsession, owner=owner), name="Talk", length_minutes=5)
    dbsession.add_all([talk, elsewhere])
    dbsession.flush()
    session = _create(
        testapp,
        headers,
        event,
        "session",
        "sessions",
        {"title": "Keynote", "state": "accepted"},
        session_type=("session-type", talk.id),
    ).json["data"]
    assert session["relationships"]["session-type"]["data"] == {
        "type": "session-type",
        "id": str(talk.id),
    }
    document = testapp.get(f"/v1/sessions/{session['id']}?include=session-type").json
    assert [(r["type"], r["attributes"]["length"]) for r in document["included"]] == [
        ("session-type", "00:25")
    ]
    response = _patch(
        testapp,
        headers,
        "session",
        "sessions",
        session["id"],
        {},
        status=422,
        session_type=("session-type", elsewhere.id),
    )
    assert _pointers(response) == ["/data/relationships/session-type/data"]
    # Deleting the type leaves the session without one.
    testapp.delete(f"/v1/session-types/{talk.id}", headers=headers, status=204)
    read = testapp.get(f"/v1/sessions/{session['id']}").json["data"]
    assert read["relationships"]["session-type"]["data"] is None


# Sponsors and social links


def test_create_update_and_list_sponsors(testapp, dbsession, event, headers):
    attributes = {
        "name": "Python Software Foundation",
        "description": SCRIPT,
        "url": "https://www.python.org/psf/",
        "level": 1,
        "sponsor-type": "Platinum Level",
        "logo-url": "https://example.org/psf.png",
    }
    created = _create(testapp, headers, event, "sponsor", "sponsors", attributes).json["data"]
    read = created["attributes"]
    assert {k: read[k] for k in attributes if k != "description"} == {
        k: v for k, v in attributes.items() if k != "description"
    }
    assert _sanitized(read["description"])
    _create(testapp, headers, event, "sponsor", "sponsors", {"name": "FOSSASIA", "level": 3})
    _patch(testapp, headers, "sponsor", "sponsors", created["id"], {"level": 2, "url": None})
    listed = testapp.get(f"/v1/events/{event.id}/sponsors?sort=-level").json["data"]
    assert [(s["attributes"]["name"], s["attributes"]["level"]) for s in listed] == [
        ("FOSSASIA", 3),
        ("Python Software Foundation", 2),
    ]
    assert listed[1]["attributes"]["url"] is None
    gold = testapp.get(f"/v1/events/{event.id}/sponsors?filter[sponsor-type]=Platinum Level").json
    assert [s["id"] for s in gold["data"]] == [created["id"]]


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({}, "/data/attributes/name"),
        ({"name": " "}, "/data/attributes/name"),
        ({"name": "PSF", "url": "www.python.org"}, "/data/attributes/url"),
        ({"name": "PSF", "logo-url": "javascript:alert(1)"}, "/data/attributes/logo-url"),
        ({"name": "PSF", "level": -1}, "/data/attributes/level"),
        ({"name": "PSF", "level": "3"}, "/data/attributes/level"),
        ({"name": "PSF", "level": 1.5}, "/data/attributes/level"),
        ({"name": "PSF", "sponsor-type": "x" * 256}, "/data/attributes/sponsor-type"),
        ({"name": "PSF", "type": "Gold"}, "/data/attributes/type"),
        ({"name": "PSF", "website": "https://python.org"}, "/data/attributes/website"),
    ],
)
def test_invalid_sponsors_are_422(testapp, dbsession, event, headers, attributes, pointer):
    response = _create(testapp, headers, event, "sponsor", "sponsors", attributes, status=422)
    assert _pointers(response) == [pointer]
    assert dbsession.scalars(select(Sponsor)).all() == []


def test_social_links_are_the_events_pages_elsewhere(testapp, dbsession, event, headers):
    created = _create(
        testapp,
        headers,
        event,
        "social-link",
        "social-links",
        {"name": "Twitter", "link": "https://twitter.com/fossasia"},
    ).json["data"]
    assert created["attributes"]["link"] == "https://twitter.com/fossasia"
    _patch(testapp, headers, "social-link", "social-links", created["id"], {"name": "X"})
    listed = testapp.get(f"/v1/events/{event.id}/social-links").json["data"]
    assert [(s["attributes"]["name"], s["attributes"]["link"]) for s in listed] == [
        ("X", "https://twitter.com/fossasia")
    ]
    for attributes, pointer in [
        ({"name": "Twitter"}, "/data/attributes/link"),
        ({"name": "Twitter", "link": None}, "/data/attributes/link"),
        ({"name": "Twitter", "link": "twitter.com/fossasia"}, "/data/attributes/link"),
        ({"link": "https://twitter.com/fossasia"}, "/data/attributes/name"),
    ]:
        response = _create(
            testapp, headers, event, "social-link", "social-links", attributes, status=422
        )
        assert _pointers(response) == [pointer]
    _patch(
        testapp,
        headers,
        "social-link",
        "social-links",
        created["id"],
        {"link": None},
        status=422,
    )
    testapp.delete(f"/v1/social-links/{created['id']}", headers=headers, status=204)
    assert dbsession.scalars(select(SocialLink)).all() == []


def test_sponsors_and_links_of_a_draft_event_are_for_its_team(testapp, dbsession, login, owner):
    draft = make_event(dbsession, owner=owner)
    sponsor = Sponsor(event=draft, name="PSF")
    link = SocialLink(event=draft, name="Wiki", link="https://example.org")
    dbsession.add_all([sponsor, link])
    dbsession.flush()
    for url in (f"/v1/sponsors/{sponsor.id}", f"/v1/social-links/{link.id}"):
        testapp.get(url, status=404)
        testapp.get(url, headers=login(owner), status=200)
    testapp.get(f"/v1/events/{draft.id}/sponsors", status=404)
    testapp.get(f"/v1/events/{draft.id}/social-links", status=404)


# The event's own attributes

EVENT_ATTRIBUTES = {
    "email": "info@fossasia.org",
    "organizer-name": "FOSSASIA and Science Centre Singapore",
    "external-event-url": "http://2017.fossasia.org",
    "ticket-url": "https://eventyay.com/e/45da88b7/",
    "privacy": "private",
    "latitude": 1.333194,
    "longitude": 103.736132,
    "copyright-holder": "FOSSASIA",
    "copyright-holder-url": "https://fossasia.org",
    "copyright-licence": "Attribution",
    "copyright-licence-url": "https://creativecommons.org/licenses/by/4.0",
    "copyright-year": 2017,
    "copyright-logo-url": "https://licensebuttons.net/l/by/3.0/88x31.png",
}


def test_the_event_keeps_what_open_event_knows_of_it(testapp, dbsession, event, headers):
    body = jsonapi_document(
        "event",
        {
            **EVENT_ATTRIBUTES,
            "organizer-description": SCRIPT,
            "code-of-conduct": SCRIPT,
            "schedule-published-on": "2017-03-01T18:36:01+08:00",
        },
        id=event.id,
    )
    testapp.patch_json(f"/v1/events/{event.id}", body, headers=headers, status=200)
    read = testapp.get(f"/v1/events/{event.id}").json["data"]["attributes"]
    assert {k: read[k] for k in EVENT_ATTRIBUTES} == EVENT_ATTRIBUTES
    assert _sanitized(read["organizer-description"]) and _sanitized(read["code-of-conduct"])
    assert read["schedule-published-on"] == "2017-03-01T18:36:01+08:00"
    # Longitudes east and west, and coordinates given as whole numbers.
    body = jsonapi_document("event", {"latitude": -90, "longitude": -180}, id=event.id)
    testapp.patch_json(f"/v1/events/{event.id}", body, headers=headers, status=200)
    dbsession.expire_all()
    assert (dbsession.get(Event, event.id).latitude, event.longitude) == (-90.0, -180.0)


def test_a_new_event_is_public_until_said_otherwise(testapp, headers):
    body = jsonapi_document(
        "event",
        {
            "name": "Meetup",
            "timezone": "Europe/Berlin",
            "starts-at": "2030-01-01T18:00",
            "ends-at": "2030-01-01T21:00",
        },
    )
    created = testapp.post_json("/v1/events", body, headers=headers, status=201).json["data"]
    assert created["attributes"]["privacy"] == "public"
    assert created["attributes"]["latitude"] is None


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"email": "not an address"}, "email"),
        ({"latitude": 90.000001}, "latitude"),
        ({"latitude": -91}, "latitude"),
        ({"latitude": "1.3"}, "latitude"),
        ({"latitude": True}, "latitude"),
        ({"longitude": 180.5}, "longitude"),
        ({"longitude": -(10**30)}, "longitude"),
        ({"privacy": "secret"}, "privacy"),
        ({"privacy": None}, "privacy"),
        ({"copyright-year": 1899}, "copyright-year"),
        ({"copyright-year": 2200}, "copyright-year"),
        ({"copyright-year": "2017"}, "copyright-year"),
        ({"ticket-url": "ftp://example.org/tickets"}, "ticket-url"),
        ({"external-event-url": "http://exa mple.org"}, "external-event-url"),
        ({"copyright-licence": "x" * 256}, "copyright-licence"),
        ({"organizer-name": "nul\x00"}, "organizer-name"),
        ({"schedule-published-on": "yesterday"}, "schedule-published-on"),
        ({"code-of-conduct": ["be nice"]}, "code-of-conduct"),
    ],
)
def test_invalid_event_attributes_are_422_and_change_nothing(
    testapp, dbsession, event, headers, attributes, pointer
):
    body = jsonapi_document("event", attributes, id=event.id)
    response = testapp.patch_json(f"/v1/events/{event.id}", body, headers=headers, status=422)
    assert _pointers(response) == [f"/data/attributes/{pointer}"]
    dbsession.expire_all()
    stored = dbsession.get(Event, event.id)
    assert (stored.email, stored.latitude, stored.privacy.value) == (None, None, "public")


def test_events_filter_by_coordinates(testapp, dbsession, owner):
    north = make_event(dbsession, owner=owner, state=EventState.PUBLISHED, latitude=52.5)
    make_event(dbsession, owner=owner, state=EventState.PUBLISHED, latitude=-33.9)
    found = testapp.get("/v1/events?filter[latitude][gt]=0").json["data"]
    assert [e["id"] for e in found] == [str(north.id)]
    for bad in ("north", "1e3", "nan", "0x10"):
        testapp.get(f"/v1/events?filter[latitude][gt]={bad}", status=400)


# Sessions, speakers, tracks and rooms


def test_sessions_keep_their_media_and_signup_urls(testapp, dbsession, event, headers):
    urls = {
        "slides-url": "https://example.org/slides.pdf",
        "video-url": "https://www.youtube.com/watch?v=aoGQN0XW6sU",
        "audio-url": "https://example.org/talk.ogg",
        "signup-url": "https://example.org/signup",
    }
    created = _create(testapp, headers, event, "session", "sessions", {"title": "Talk", **urls})
    assert {k: created.json["data"]["attributes"][k] for k in urls} == urls
    for name in urls:
        response = _create(
            testapp,
            headers,
            event,
            "session",
            "sessions",
            {"title": "Talk", name: "javascript:alert(1)"},
            status=422,
        )
        assert _pointers(response) == [f"/data/attributes/{name}"]
    assert len(dbsession.scalars(select(Session)).all()) == 1


SPEAKER = {
    "name": "Niranjan Rajendran",
    "position": "Developer",
    "country": "India",
    "city": "Bangalore",
    "is-featured": True,
    "facebook": "https://facebook.com/niranjan94",
    "twitter": "https://twitter.com/niranjan94",
}


def test_speakers_keep_their_profile(testapp, dbsession, event, headers):
    created = _create(
        testapp,
        headers,
        event,
        "speaker",
        "speakers",
        {**SPEAKER, "short-biography": SCRIPT, "long-biography": SCRIPT},
    ).json["data"]
    read = testapp.get(f"/v1/speakers/{created['id']}").json["data"]["attributes"]
    assert {k: read[k] for k in SPEAKER} == SPEAKER
    assert _sanitized(read["short-biography"]) and _sanitized(read["long-biography"])
    assert "bio" not in read
    featured = testapp.get(f"/v1/events/{event.id}/speakers?filter[is-featured]=true").json
    assert [s["id"] for s in featured["data"]] == [created["id"]]
    plain = _create(testapp, headers, event, "speaker", "speakers", {"name": "Ada"}).json["data"]
    assert plain["attributes"]["is-featured"] is False


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"is-featured": None}, "is-featured"),
        ({"is-featured": "yes"}, "is-featured"),
        ({"facebook": "facebook.com/ada"}, "facebook"),
        ({"country": "x" * 256}, "country"),
        ({"long-biography": 42}, "long-biography"),
        ({"bio": "<p>old name</p>"}, "bio"),
    ],
)
def test_invalid_speaker_attributes_are_422(
    testapp, dbsession, event, headers, attributes, pointer
):
    response = _create(
        testapp, headers, event, "speaker", "speakers", {"name": "Ada", **attributes}, status=422
    )
    assert _pointers(response) == [f"/data/attributes/{pointer}"]
    assert dbsession.scalars(select(Speaker)).all() == []


def test_tracks_and_rooms_keep_their_description_colours_floor_and_place(
    testapp, dbsession, event, headers
):
    track = _create(
        testapp,
        headers,
        event,
        "track",
        "tracks",
        {"name": "Web", "color": "#E74C3C", "font-color": "#FFFFFF", "description": SCRIPT},
    ).json["data"]["attributes"]
    assert (track["color"], track["font-color"]) == ("#e74c3c", "#ffffff")
    assert _sanitized(track["description"])
    room = {"name": "Room 1", "floor": -1, "room": "B12", "latitude": 37.32978}
    created = _create(
        testapp, headers, event, "microlocation", "microlocations", {**room, "longitude": -121.8}
    ).json["data"]["attributes"]
    assert {k: created[k] for k in room} == room
    assert created["longitude"] == -121.8
    for type_, plural, attributes, pointer in [
        ("track", "tracks", {"name": "Web", "font-color": "white"}, "font-color"),
        ("track", "tracks", {"name": "Web", "font-color": "#FFF"}, "font-color"),
        ("microlocation", "microlocations", {"name": "Hall", "floor": 1001}, "floor"),
        ("microlocation", "microlocations", {"name": "Hall", "floor": 1.5}, "floor"),
        ("microlocation", "microlocations", {"name": "Hall", "latitude": 100}, "latitude"),
        ("microlocation", "microlocations", {"name": "Hall", "longitude": -200}, "longitude"),
    ]:
        response = _create(testapp, headers, event, type_, plural, attributes, status=422)
        assert _pointers(response) == [f"/data/attributes/{pointer}"]
    assert len(dbsession.scalars(select(Track)).all()) == 1
    assert len(dbsession.scalars(select(Microlocation)).all()) == 1


# Changes and statements


def test_deleted_links_and_renamed_biographies_are_delivered(
    testapp, dbsession, event, headers, captured_changes
):
    link = SocialLink(event=event, name="Wiki", link="https://example.org/wiki")
    speaker = make_speaker(dbsession, event, short_biography="<p>Old</p>")
    dbsession.add(link)
    dbsession.flush()
    captured_changes.clear()
    testapp.delete(f"/v1/social-links/{link.id}", headers=headers, status=204)
    _patch(testapp, headers, "speaker", "speakers", speaker.id, {"short-biography": "<p>New</p>"})
    assert [type(c) for c in captured_changes] == [SocialLinkDeleted, SpeakerUpdated]
    deleted, updated = captured_changes
    assert (deleted.model, deleted.id, deleted.event_id) == ("social-link", link.id, event.id)
    assert deleted.changes["link"] == ("https://example.org/wiki", None)
    assert updated.changes["short_biography"] == ("<p>Old</p>", "<p>New</p>")


def test_sponsor_and_session_type_changes(testapp, event, headers, captured_changes):
    sponsor_id = _create(testapp, headers, event, "sponsor", "sponsors", {"name": "PSF"}).json[
        "data"
    ]["id"]
    type_id = _create(
        testapp,
        headers,
        event,
        "session-type",
        "session-types",
        {"name": "Talk", "length": "00:30"},
    ).json["data"]["id"]
    _patch(testapp, headers, "session-type", "session-types", type_id, {"length": "00:45"})
    created, type_created, type_updated = captured_changes
    assert type(created) is SponsorCreated
    assert (created.model, created.id, created.event_id) == ("sponsor", int(sponsor_id), event.id)
    assert created.changes["name"] == (None, "PSF")
    assert type(type_created) is SessionTypeCreated
    assert type(type_updated) is SessionTypeUpdated
    assert type_updated.changes["length_minutes"] == (30, 45)


def _program(dbsession, event, count):
    for i in range(count):
        kind = SessionType(event=event, name=f"Kind {i}", length_minutes=30)
        make_session(
            dbsession,
            event,
            title=f"Talk {i}",
            state=SessionState.ACCEPTED,
            session_type=kind,
            speakers=[make_speaker(dbsession, event, name=f"Speaker {i}")],
        )
    dbsession.expire_all()


def test_including_session_types_costs_the_same_statements_for_3_or_60(
    testapp, dbsession, count_statements, owner, headers
):
    counts = []
    for size in (3, 60):
        event = make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
        _program(dbsession, event, size)
        url = f"/v1/events/{event.id}/sessions?page[size]=100&include=speakers,session-type"
        for caller in ({}, headers):
            with count_statements() as statements:
                document = testapp.get(url, headers=caller).json
            assert len(document["data"]) == size
            assert len(document["included"]) == 2 * size
            counts.append(len(statements))
    assert counts[:2] == counts[2:]
    assert max(counts) <= 10
