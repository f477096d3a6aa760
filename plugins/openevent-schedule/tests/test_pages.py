"""The site's pages, through the WSGI app: what each shows, to whom, and what it refuses."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from openevent.models import EventState, Microlocation, SessionState, Track
from openevent.plugins import PLUGINS_KEY, PluginState
from openevent.testing import make_event, make_session, make_speaker

# 2030-03-17 01:00 UTC is 09:00 in Singapore (the factories' event). Babel puts a narrow
# no-break space (U+202F) before AM and PM, as CLDR says.
START = datetime(2030, 3, 17, 1, 0, tzinfo=UTC)


def _url(event, path=""):
    return f"/events/{event.identifier}/{path}"


@pytest.fixture
def rooms(dbsession, event):
    # Positions give the organizer's order, whatever the ids or names say.
    stage = Microlocation(event=event, name="Stage", position=2)
    hall = Microlocation(event=event, name="Hall", position=1)
    dbsession.add_all([stage, hall])
    dbsession.flush()
    return hall, stage


@pytest.fixture
def track(dbsession, event):
    track = Track(event=event, name="Science", color="#ff3737")
    dbsession.add(track)
    dbsession.flush()
    return track


def _accepted(dbsession, event, title, start, minutes=30, **fields):
    """A session of the public program (unless ``state`` says otherwise)."""
    fields.setdefault("state", SessionState.ACCEPTED)
    return make_session(
        dbsession,
        event,
        title=title,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        **fields,
    )


# The event page


def test_event_page_shows_the_event_in_its_timezone(testapp, dbsession, event):
    event.location_name = "Science Centre Singapore"
    event.description = "<p>Open tech <script>alert(1)</script><b>summit</b></p>"
    dbsession.flush()
    page = testapp.get(_url(event))
    assert page.content_type == "text/html"
    html = page.text
    assert "<h1>FOSSASIA Summit</h1>" in html
    # 01:00 UTC is 9:00 AM in Singapore; Babel's abbreviation for it.
    assert "Sunday, March 17, 2030, 9:00\u202fAM" in html
    assert 'datetime="2030-03-17T09:00+08:00"' in html
    assert "+0800" in html
    assert "Science Centre Singapore" in html
    assert "<b>summit</b>" in html
    assert "<script>" not in html.split("</head>")[1]
    assert f'href="/events/{event.identifier}/schedule"' in html
    assert f'href="/events/{event.identifier}/speakers"' in html


def test_event_page_banner_prefers_the_images_plugins_large_copy(testapp, dbsession, event):
    def banner():
        found = re.findall(r'<img class="banner" src="([^"]+)"', testapp.get(_url(event)).text)
        return found[0] if found else None

    assert banner() is None
    event.original_image_url = "https://img.test/banner.png"
    dbsession.flush()
    assert banner() == "https://img.test/banner.png"
    event.large_image_url = "https://img.test/banner-1300.png"
    dbsession.flush()
    assert banner() == "https://img.test/banner-1300.png"


def test_missing_draft_and_trashed_events_are_404_pages(testapp, dbsession, owner):
    draft = make_event(dbsession, owner=owner, state=EventState.DRAFT)
    trashed = make_event(
        dbsession, owner=owner, state=EventState.PUBLISHED, deleted_at=datetime.now(UTC)
    )
    for path in (_url(draft), _url(trashed), "/events/nosuchevent/", _url(draft, "schedule")):
        page = testapp.get(path, status=404)
        assert page.content_type == "text/html"
        assert "Page not found" in page.text


def test_the_bare_event_address_redirects_to_the_page(testapp, event):
    response = testapp.get(f"/events/{event.identifier}", status=301)
    assert response.location.endswith(_url(event))


def test_turned_off_for_an_event_the_site_is_404(testapp, event, headers):
    off = {"type": "event-plugin", "id": "schedule", "attributes": {"enabled": False}}
    testapp.patch_json(f"/v1/events/{event.id}/plugins", {"data": [off]}, headers=headers)
    for path in ("", "schedule", "speakers"):
        page = testapp.get(_url(event, path), status=404)
        assert "Page not found" in page.text


# The schedule


def test_grid_has_rooms_in_the_organizers_order_and_sessions_in_their_rows(
    testapp, dbsession, event, rooms
):
    hall, stage = rooms
    _accepted(dbsession, event, "Opening", START, 60, microlocation=stage)
    _accepted(dbsession, event, "Workshop", START + timedelta(minutes=30), 45, microlocation=hall)
    html = testapp.get(_url(event, "schedule")).text
    headers = re.findall(
        r'class="grid-room" style="grid-column:(\d+)" aria-hidden="true">(\w+)', html
    )
    assert headers == [("2", "Hall"), ("3", "Stage")]
    # Five minutes a row, after the header row: 9:00-10:00 is rows 2 to 14, 9:30-10:15 is 8 to 17.
    assert re.search(r'grid-column:3;grid-row:2/14"[^>]*>\s*<h3[^>]*><a [^>]*>Opening<', html)
    assert re.search(r'grid-column:2;grid-row:8/17"[^>]*>\s*<h3[^>]*><a [^>]*>Workshop<', html)
    assert "Sunday, March 17, 2030" in html
    assert '<time datetime="2030-03-17T09:30+08:00">9:30\u202fAM</time>' in html


def test_only_public_sessions_are_shown(testapp, dbsession, event):
    _accepted(dbsession, event, "Accepted talk", START)
    _accepted(dbsession, event, "Confirmed talk", START, state=SessionState.CONFIRMED)
    for state in (SessionState.PENDING, SessionState.REJECTED, SessionState.DRAFT):
        _accepted(dbsession, event, f"A {state} talk", START, state=state)
    _accepted(dbsession, event, "Trashed talk", START, deleted_at=datetime.now(UTC))
    html = testapp.get(_url(event, "schedule")).text
    assert "Accepted talk" in html
    assert "Confirmed talk" in html
    assert " talk<" not in html.replace("Accepted talk<", "").replace("Confirmed talk<", "")


def test_days_tracks_and_the_list_view_filter_the_schedule(testapp, dbsession, event, track):
    _accepted(dbsession, event, "Day one science", START, track=track)
    _accepted(dbsession, event, "Day one other", START + timedelta(hours=1))
    # 16:30 UTC on the 17th is already the 18th in Singapore: a session of the second day.
    _accepted(dbsession, event, "Day two talk", datetime(2030, 3, 17, 16, 30, tzinfo=UTC))
    everything = testapp.get(_url(event, "schedule")).text
    day_two_link = f'<a href="/events/{event.identifier}/schedule?day=2030-03-18&amp;view=grid">'
    assert day_two_link in everything
    day_two = testapp.get(_url(event, "schedule"), {"day": "2030-03-18"}).text
    assert "Day two talk" in day_two
    assert "Day one" not in day_two
    science = testapp.get(_url(event, "schedule"), {"track": str(track.id)}).text
    assert "Day one science" in science
    assert "Day one other" not in science
    listed = testapp.get(_url(event, "schedule"), {"view": "list"}).text
    assert 'class="grid"' not in listed
    assert (
        '<h3 class="slot"><time datetime="2030-03-18T00:30+08:00">12:30\u202fAM</time></h3>'
        in listed
    )


@pytest.mark.parametrize(
    "query", [{"day": "2030-13-01"}, {"day": "2031-01-01"}, {"track": "x"}, {"view": "table"}]
)
def test_bad_schedule_parameters_are_400_pages(testapp, event, query):
    page = testapp.get(_url(event, "schedule"), query, status=400)
    assert page.content_type == "text/html"
    assert "Bad request" in page.text
    assert next(iter(query)) in page.text


def test_now_and_next_during_the_event(testapp, dbsession, owner):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    running = make_event(
        dbsession,
        owner=owner,
        state=EventState.PUBLISHED,
        starts_at=now - timedelta(hours=1),
    )
    _accepted(dbsession, running, "Running talk", now - timedelta(minutes=10), 30)
    _accepted(dbsession, running, "Next talk", now + timedelta(minutes=40), 30)
    _accepted(dbsession, running, "Later talk", now + timedelta(minutes=90), 30)
    for path in ("", "schedule"):
        html = testapp.get(_url(running, path)).text
        section = html.split('id="now-next-title"')[1].split("</section>")[0]
        now_part, next_part = section.split("<h3>Next</h3>")
        assert "Running talk" in now_part
        assert "Next talk" in next_part
        assert "Later talk" not in section


def test_no_now_and_next_outside_the_event(testapp, dbsession, event):
    _accepted(dbsession, event, "A talk", START)
    assert "now-next" not in testapp.get(_url(event, "schedule")).text


# Sessions


def test_session_page(testapp, dbsession, event, rooms, track):
    hall, _ = rooms
    ada = make_speaker(dbsession, event, name="Ada Lovelace", photo_url="https://img.test/ada.png")
    session = _accepted(
        dbsession,
        event,
        "Analytical engines",
        START + timedelta(hours=5, minutes=25),
        25,
        microlocation=hall,
        track=track,
        long_abstract="<p>Punched <em>cards</em><img src=x onerror=alert(1)></p>",
        speakers=[ada],
    )
    html = testapp.get(_url(event, f"sessions/{session.id}")).text
    assert "<h1>Analytical engines</h1>" in html
    assert "Sunday, March 17, 2030" in html
    assert '<time datetime="2030-03-17T14:25+08:00">2:25\u202fPM</time>' in html
    assert "<dd>Hall</dd>" in html
    assert "<dd>Science</dd>" in html
    assert "<p>Punched <em>cards</em></p>" in html
    assert "onerror" not in html
    assert 'src="https://img.test/ada.png" alt=""' in html
    assert f'href="/events/{event.identifier}/speakers/{ada.id}"' in html
    assert f'href="/events/{event.identifier}/sessions/{session.id}.ics"' in html


def test_a_session_the_public_may_not_see_is_404(testapp, dbsession, event, owner):
    pending = _accepted(dbsession, event, "Pending", START, state=SessionState.PENDING)
    trashed = _accepted(dbsession, event, "Trashed", START, deleted_at=datetime.now(UTC))
    other_event = make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
    elsewhere = _accepted(dbsession, other_event, "Elsewhere", START)
    for session in (pending, trashed, elsewhere):
        testapp.get(_url(event, f"sessions/{session.id}"), status=404)
        testapp.get(_url(event, f"sessions/{session.id}.ics"), status=404)
    testapp.get(_url(event, "sessions/99999999999999999999"), status=404)
    testapp.get(_url(event, "sessions/abc"), status=404)


def test_a_session_as_a_calendar_file(testapp, dbsession, event, rooms):
    hall, _ = rooms
    session = _accepted(dbsession, event, "Analytical engines", START, 25, microlocation=hall)
    response = testapp.get(_url(event, f"sessions/{session.id}.ics"))
    assert response.content_type == "text/calendar"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="session-{session.id}.ics"'
    )
    body = response.text.replace("\r\n ", "")
    assert "BEGIN:VEVENT" in body
    assert "DTSTART:20300317T010000Z" in body
    assert "DTEND:20300317T012500Z" in body
    assert "SUMMARY:Analytical engines" in body
    assert "LOCATION:Hall" in body
    assert f"URL:http://example.com/events/{event.identifier}/sessions/{session.id}" in body


def test_an_unscheduled_session_has_a_page_but_no_calendar_file(testapp, dbsession, event):
    session = make_session(dbsession, event, title="Some day", state=SessionState.ACCEPTED)
    html = testapp.get(_url(event, f"sessions/{session.id}")).text
    assert ".ics" not in html
    testapp.get(_url(event, f"sessions/{session.id}.ics"), status=404)
    assert "Some day" not in testapp.get(_url(event, "schedule")).text


# Speakers


def test_speakers_are_those_of_public_sessions_sorted_as_readers_expect(testapp, dbsession, event):
    names = ["zoë", "Émile", "adam", "Zachary", "eve"]
    speakers = [make_speaker(dbsession, event, name=name) for name in names]
    _accepted(dbsession, event, "Talk", START, speakers=speakers)
    rejected_only = make_speaker(dbsession, event, name="Rejected Speaker")
    _accepted(dbsession, event, "No", START, state=SessionState.REJECTED, speakers=[rejected_only])
    trashed = make_speaker(dbsession, event, name="Trashed Speaker", deleted_at=datetime.now(UTC))
    _accepted(dbsession, event, "Also", START, speakers=[trashed])
    html = testapp.get(_url(event, "speakers")).text
    shown = re.findall(r'<span class="name">([^<]+)</span>', html)
    assert shown == ["adam", "Émile", "eve", "Zachary", "zoë"]
    testapp.get(_url(event, f"speakers/{rejected_only.id}"), status=404)
    testapp.get(_url(event, f"speakers/{trashed.id}"), status=404)


def test_speaker_page_with_biography_links_and_sessions(testapp, dbsession, event):
    ada = make_speaker(
        dbsession,
        event,
        name="Ada Lovelace",
        organisation="Analytical Society",
        website="https://ada.test",
        github="https://github.com/ada",
    )
    # The page shows the long biography where there is one, the short one otherwise.
    ada.short_biography = "<p>Programmer</p>"
    ada.long_biography = "<p>First <strong>programmer</strong></p>"
    talk = _accepted(dbsession, event, "Notes on the engine", START, speakers=[ada])
    _accepted(dbsession, event, "Pending idea", START, state=SessionState.PENDING, speakers=[ada])
    html = testapp.get(_url(event, f"speakers/{ada.id}")).text
    assert "<h1>Ada Lovelace</h1>" in html
    assert "Analytical Society" in html
    assert "<p>First <strong>programmer</strong></p>" in html
    assert "<p>Programmer</p>" not in html
    assert '<a href="https://ada.test" rel="noopener nofollow">Website</a>' in html
    assert '<a href="https://github.com/ada" rel="noopener nofollow">GitHub</a>' in html
    assert f'/sessions/{talk.id}"' in html
    assert "Pending idea" not in html
    ada.long_biography = None
    dbsession.flush()
    assert "<p>Programmer</p>" in testapp.get(_url(event, f"speakers/{ada.id}")).text


def test_speaker_page_shows_the_photos_large_copy(testapp, dbsession, event):
    ada = make_speaker(dbsession, event, name="Ada Lovelace", photo_url="https://img.test/ada.png")
    ada.thumbnail_image_url = "https://img.test/ada-500.png"
    ada.small_image_url = "https://img.test/ada-50.png"
    _accepted(dbsession, event, "Notes on the engine", START, speakers=[ada])

    def src():
        html = testapp.get(_url(event, f"speakers/{ada.id}")).text
        return re.search(r'<img class="photo photo-large" src="([^"]+)"', html).group(1)

    assert src() == "https://img.test/ada-500.png"
    # Without the images plugin's copies, the photo itself.
    ada.thumbnail_image_url = None
    dbsession.flush()
    assert src() == "https://img.test/ada.png"


def test_photos_prefer_the_images_plugins_sizes(registry):
    from types import SimpleNamespace

    from pyramid_jinja2 import IJinja2Environment

    environment = registry.queryUtility(IJinja2Environment, name=".jinja2")
    macros = environment.get_template("openevent_schedule:templates/macros.jinja2").module
    sized = SimpleNamespace(name="A", thumbnail_image_url="/t.png", photo_url="/p.png")
    plain = SimpleNamespace(name="B", photo_url="/p.png")  # no images plugin: no such column
    none = SimpleNamespace(name="Cy", photo_url=None)
    assert 'src="/t.png"' in macros.photo(sized)
    assert 'src="/p.png"' in macros.photo(plain)
    assert "<img" not in macros.photo(none)


# Feeds, assets, statements


def test_feed_links_only_where_the_exports_plugin_is_on(testapp, registry, event, monkeypatch):
    assert "schedule.ics" not in testapp.get(_url(event)).text
    plugins = dict(registry[PLUGINS_KEY])
    plugins["exports"] = plugins["schedule"].__class__(
        name="exports", package="openevent_exports", state=PluginState.ACTIVE
    )
    monkeypatch.setitem(registry, PLUGINS_KEY, plugins)
    html = testapp.get(_url(event)).text
    for name in ("schedule.ics", "schedule.xcal", "schedule.xml", "schedule.json"):
        assert f'href="/v1/events/{event.id}/{name}"' in html
    assert (
        f'<link rel="alternate" type="text/calendar" href="/v1/events/{event.id}/schedule.ics"'
        in html
    )


def test_assets_are_served_by_the_app_with_long_cache_headers(testapp, event):
    html = testapp.get(_url(event)).text
    [css] = re.findall(r'href="(/assets/schedule/site\.css\?x=\w+)"', html)
    [js] = re.findall(r'src="(/assets/schedule/site\.js\?x=\w+)"', html)
    for url in (css, js):
        response = testapp.get(url)
        assert response.cache_control.max_age == 365 * 24 * 3600
    assert "grid-template-columns" in testapp.get(css).text
    testapp.get("/assets/schedule/nothing.css", status=404)


def test_the_schedule_costs_the_same_statements_for_any_number_of_sessions(
    testapp, dbsession, event, rooms, track, count_statements
):
    def statements_for(count):
        speaker = make_speaker(dbsession, event, name=f"Speaker {count}")
        for i in range(count):
            _accepted(
                dbsession,
                event,
                f"Talk {count}-{i}",
                START + timedelta(minutes=30 * i),
                microlocation=rooms[i % 2],
                track=track,
                speakers=[speaker],
            )
        with count_statements() as statements:
            testapp.get(_url(event, "schedule"))
        return len(statements)

    assert statements_for(2) == statements_for(20)


@pytest.mark.parametrize("path", ["/events/%ff/", "/{id}/schedule?day=%ff", "/{id}/?lang=%00"])
def test_urls_that_are_not_text_are_refused_before_any_page(testapp, event, path):
    # openevent refuses them itself (a JSON:API error), for every path.
    testapp.get(path.replace("/{id}", f"/events/{event.identifier}"), status=400)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/events/{id}/schedule?track=99999999999999999999999", 400),
        ("/events/{id}/schedule?view=%E2%80%AE", 400),
        ("/events/" + "x" * 5000 + "/", 404),
        ("/events/{id}/speakers/1%2F2", 404),
        ("/events/{id}/nothing-here", 404),
    ],
)
def test_hostile_addresses_are_4xx_pages(testapp, event, path, status):
    response = testapp.get(path.replace("{id}", event.identifier), status=status)
    assert response.content_type == "text/html"


def test_writes_to_pages_are_refused(testapp, event):
    for method in (testapp.post, testapp.put, testapp.delete):
        response = method(_url(event, "schedule"), status="*")
        assert response.status_int in (404, 405)
