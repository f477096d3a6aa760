"""The site in a real browser: Debian's chromium driven by Playwright, on a real server.

The FOSSASIA Summit 2017 sample is imported by openevent's importer, published, and committed
to this run's database (the browser's requests run in transactions of their own, on a waitress
server in a thread); it is removed at the end.
The browser runs in New York time, so a time shown in Singapore's proves the server formats
it, and it never leaves the loopback interface: speakers' photos point elsewhere, and are not
fetched. Screenshots of the main pages are saved for people to look at (the folder is printed
at the end of the run: var/screenshots/ beside this plugin, or OPENEVENT_SCREENSHOTS; see the
``screenshot`` fixture in conftest.py).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from openevent.cli.api import transaction_scope
from openevent.importer import import_archive
from openevent.models import Event, EventState, Session, User
from openevent.testing import make_user

CHROMIUM = os.environ.get("OPENEVENT_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
# The project's shared samples sit beside the checkout (as in CI); OPENEVENT_SAMPLES names
# the folder elsewhere.
SAMPLES = Path(
    os.environ.get("OPENEVENT_SAMPLES")
    or Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "open-event"
)
IDENTIFIER = "fossasia17"
KEYNOTE = "Keynote: Protecting privacy with free software"  # 2017-03-17 14:25-14:50 +08:00


def _import_fossasia(dbsession, base_url: str) -> int:
    """Import the sample for a new owner and publish it at IDENTIFIER; return the owner's id."""
    owner = make_user(dbsession, password=None)
    event, _ = import_archive(
        dbsession, SAMPLES / "FOSSASIASummit2017", owner_id=owner.id, base_url=base_url
    )
    # An import is a draft with an identifier of its own: publish it at a fixed address.
    event.identifier = IDENTIFIER
    event.state = EventState.PUBLISHED
    return owner.id


@pytest.fixture(scope="module")
def server(wsgi_app, app_config):
    """The app on a free loopback port, with the sample event committed; both gone after."""
    import waitress

    registry = app_config.registry
    server = waitress.create_server(wsgi_app, host="127.0.0.1", port=0, threads=4)
    address = f"http://127.0.0.1:{server.effective_port}"
    thread = threading.Thread(target=server.run, daemon=True)
    try:
        with transaction_scope(registry) as dbsession:
            owner_id = _import_fossasia(dbsession, address)
        thread.start()
        yield address
    finally:
        server.close()
        if thread.is_alive():
            thread.join(timeout=10)
    with transaction_scope(registry) as dbsession:
        dbsession.delete(dbsession.scalar(select(Event).where(Event.identifier == IDENTIFIER)))
        dbsession.delete(dbsession.get(User, owner_id))
    with transaction_scope(registry) as dbsession:
        assert dbsession.scalar(select(Session.id).limit(1)) is None


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    """A page in a fresh context, in New York time, that reaches the test server only."""
    context = browser.new_context(base_url=server, timezone_id="America/New_York", locale="en-US")
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(server) else route.abort(),
    )
    page = context.new_page()
    yield page
    context.close()


def _follow(page, target) -> None:
    """Click a link or button and wait until the page it leads to has loaded.

    A click only starts the navigation: reading the page straight after it may read the old
    one, or none while the new one arrives.
    """
    with page.expect_navigation():
        target.click()


def _axe_violations(page) -> list[str]:
    """The serious and critical accessibility violations axe-core finds on the page."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']} {v['help']}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_click_through_schedule_session_and_speaker(page, screenshot):
    page.goto(f"/events/{IDENTIFIER}/")
    assert page.locator("h1").inner_text() == "FOSSASIA Summit 2017"
    screenshot(page, "event")
    _follow(page, page.get_by_role("link", name="Schedule", exact=True))
    _follow(page, page.get_by_role("link", name="Fri, Mar 17"))
    screenshot(page, "schedule-grid")
    card = page.locator("article.session", has_text=KEYNOTE)
    # Singapore time, though the browser is in New York.
    assert card.locator("time").first.inner_text() == "2:25\u202fPM"
    _follow(page, card.get_by_role("link", name=KEYNOTE))
    assert page.locator("h1").inner_text() == KEYNOTE
    when = page.locator(".facts dd").first.inner_text()
    assert when == "Friday, March 17, 2017, 2:25\u202fPM\u20132:50\u202fPM +0800"  # an en dash
    screenshot(page, "session")
    _follow(page, page.get_by_role("link", name="Frank Karlitschek"))
    assert page.locator("h1").inner_text() == "Frank Karlitschek"
    assert page.get_by_role("link", name=KEYNOTE).is_visible()
    screenshot(page, "speaker")
    _follow(page, page.get_by_role("link", name="Speakers", exact=True))
    screenshot(page, "speakers")
    assert page.locator(".people li").count() > 150


def test_switch_language_and_filter_by_track(page, screenshot):
    page.goto(f"/events/{IDENTIFIER}/schedule?view=list")
    switch = page.get_by_role("navigation", name="Language").get_by_role("link")
    assert switch.all_inner_texts() == ["Deutsch", "English", "français"]
    _follow(page, switch.filter(has_text="Deutsch"))
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator("h1").inner_text() == "Programm"
    card = page.locator("article.session", has_text=KEYNOTE)
    assert card.locator("time").first.inner_text() == "14:25"
    page.get_by_label("Thema").select_option(label="Open Tech")
    _follow(page, page.get_by_role("button", name="Anzeigen"))
    assert "track=" in page.url
    assert "lang=de" in page.url
    assert page.locator("h1").inner_text() == "Programm"
    tracks = page.locator(".session-track").all_inner_texts()
    assert tracks
    assert set(tracks) == {"Open Tech"}
    screenshot(page, "schedule-list-de")


def test_the_reader_gets_their_own_time_as_a_hint(page):
    page.goto(f"/events/{IDENTIFIER}/schedule?day=2017-03-17")
    time = page.locator("article.session", has_text=KEYNOTE).locator("time").first
    # 14:25 in Singapore is 2:25 AM in New York (EDT began on March 12th).
    assert time.get_attribute("title").replace("\u202f", " ") == "2:25 AM EDT"


def test_on_a_phone_the_grid_is_a_list(browser, server, screenshot):
    context = browser.new_context(
        base_url=server, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    context.route(
        "**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort()
    )
    page = context.new_page()
    page.goto(f"/events/{IDENTIFIER}/schedule?day=2017-03-18")
    assert page.locator(".grid").first.evaluate("e => getComputedStyle(e).display") == "block"
    assert page.locator(".grid-room").first.is_hidden()
    screenshot(page, "schedule-phone")
    context.close()


def test_everything_works_without_javascript(browser, server):
    context = browser.new_context(base_url=server, java_script_enabled=False)
    context.route(
        "**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort()
    )
    page = context.new_page()
    page.goto(f"/events/{IDENTIFIER}/schedule")
    page.get_by_label("Track").select_option(label="Python")
    _follow(page, page.get_by_role("button", name="Show"))
    assert set(page.locator(".session-track").all_inner_texts()) == {"Python"}
    _follow(page, page.locator("article.session h3 a").first)
    assert page.locator(".facts").is_visible()
    context.close()


@pytest.mark.parametrize(
    "path",
    [
        "",
        "schedule?day=2017-03-17",
        "schedule?view=list&day=2017-03-18&lang=fr",
        "speakers",
    ],
)
def test_no_serious_accessibility_violations(page, path):
    page.goto(f"/events/{IDENTIFIER}/{path}")
    assert _axe_violations(page) == []


def test_no_serious_accessibility_violations_on_session_and_speaker_pages(page):
    page.goto(f"/events/{IDENTIFIER}/schedule?view=list")
    _follow(page, page.get_by_role("link", name=KEYNOTE))
    assert _axe_violations(page) == []
    _follow(page, page.get_by_role("link", name="Frank Karlitschek"))
    assert _axe_violations(page) == []
