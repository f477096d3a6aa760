"""The site's languages: choosing one, its catalogs, dates for it, the language switch."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytz
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from openevent.models import SessionState
from openevent.testing import make_session
from openevent_schedule.collation import collatesort, collation_key
from openevent_schedule.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, Language

PACKAGE = Path(LOCALE_DIR).parent
START = datetime(2030, 3, 17, 6, 25, tzinfo=UTC)  # 14:25 in Singapore


@pytest.fixture
def talk(dbsession, event):
    return make_session(
        dbsession,
        event,
        title="Keynote",
        state=SessionState.ACCEPTED,
        starts_at=START,
        ends_at=START + timedelta(minutes=25),
    )


def _schedule(testapp, event, **kw):
    return testapp.get(f"/events/{event.identifier}/schedule", **kw)


def test_english_german_and_french_are_complete():
    assert LANGUAGES == ("de", "en", "fr")


WINTER = datetime(2030, 1, 15, 12, tzinfo=UTC)
SUMMER = datetime(2030, 7, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timezone", "language", "winter", "summer"),
    [
        # Babel's short name in English is "+0100": the tz database's abbreviation is shown.
        ("Europe/Berlin", "en", "CET", "CEST"),
        ("Europe/Berlin", "fr", "CET", "CEST"),
        # A language's own abbreviation wins.
        ("Europe/Berlin", "de", "MEZ", "MESZ"),
        ("America/Los_Angeles", "en", "PST", "PDT"),
        ("America/Los_Angeles", "de", "PST", "PDT"),
        # The tz database has only "+08": Babel's offset.
        ("Asia/Singapore", "en", "+0800", "+0800"),
        ("Asia/Singapore", "de", "+0800", "+0800"),
    ],
)
def test_times_are_shown_with_the_zones_abbreviation(timezone, language, winter, summer):
    lang = Language(language, pytz.timezone(timezone))
    assert (lang.zone(WINTER), lang.zone(SUMMER)) == (winter, summer)


def test_lang_chooses_the_language_and_links_keep_it(testapp, event, talk):
    page = _schedule(testapp, event, params={"lang": "de"})
    html = page.text
    assert '<html lang="de">' in html
    assert "<h1>Programm</h1>" in html
    assert '<time datetime="2030-03-17T14:25+08:00">14:25</time>' in html
    assert "Sonntag, 17. März 2030" in html
    assert "Singapurische Normalzeit" in html
    assert f'href="/events/{event.identifier}/sessions/{talk.id}?lang=de"' in html
    french = _schedule(testapp, event, params={"lang": "fr"}).text
    assert "<h1>Programme</h1>" in french
    assert "dimanche 17 mars 2030" in french


def test_the_browsers_languages_choose_when_lang_does_not(testapp, event, talk):
    page = _schedule(testapp, event, headers={"Accept-Language": "de-CH, fr;q=0.5"})
    assert "<h1>Programm</h1>" in page.text
    assert "Accept-Language" in page.headers["Vary"]
    assert (
        "<h1>Programme</h1>"
        in _schedule(testapp, event, headers={"Accept-Language": "it, fr-CA;q=0.8"}).text
    )
    assert "<h1>Schedule</h1>" in _schedule(testapp, event, headers={"Accept-Language": "ja"}).text
    assert "<h1>Schedule</h1>" in _schedule(testapp, event).text


def test_an_unknown_language_is_a_400_page(testapp, event):
    page = _schedule(testapp, event, params={"lang": "xx"}, status=400)
    assert "lang must be one of de, en, fr" in page.text


def test_the_switch_lists_languages_by_their_names_collated(testapp, event):
    html = _schedule(testapp, event, params={"lang": "fr", "view": "list"}).text
    switch = html.split('class="language-switch"')[1].split("</nav>")[0]
    links = re.findall(r'<a href="([^"]+)" lang="(\w+)"[^>]*>([^<]+)</a>', switch)
    assert [name for _, _, name in links] == ["Deutsch", "English", "français"]
    # Each keeps the page and its other parameters.
    assert links[0][0] == f"/events/{event.identifier}/schedule?lang=de&amp;view=list"
    assert 'lang="fr" hreflang="fr" aria-current="true"' in switch


def test_collation_ignores_case_and_accents_but_for_ties():
    names = ["zulu", "Émile", "apple", "Zebra", "eve", "Eve", "émile", "Äpfel"]
    assert sorted(names) != sorted(names, key=collation_key)
    assert sorted(names, key=collation_key) == [
        "Äpfel",
        "apple",
        "émile",
        "Émile",
        "eve",
        "Eve",
        "Zebra",
        "zulu",
    ]


def test_the_collatesort_filter_sorts_mappings_by_value_and_items_by_attribute(registry):
    from pyramid_jinja2 import IJinja2Environment

    environment = registry.queryUtility(IJinja2Environment, name=".jinja2")
    assert environment.filters["collatesort"] is collatesort
    names = {"es": "español", "en": "English", "de": "Deutsch", "el": "Ελληνικά", "is": "Íslenska"}
    template = environment.from_string(
        "{% for code, name in names|collatesort %}{{ code }} {% endfor %}|"
        "{% for p in people|collatesort('name') %}{{ p.name }} {% endfor %}"
    )
    people = [{"name": "émile"}, {"name": "Zoe"}, {"name": "adam"}]
    assert template.render(names=names, people=people) == "de en es is el |adam émile Zoe "


# The catalogs: complete, compiled, and in step with the templates.


def _messages_in_code() -> set:
    method_map = [("**.py", "python"), ("templates/**.jinja2", "jinja2")]
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(PACKAGE), method_map):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def _catalog_ids(catalog) -> set:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def test_the_template_catalog_holds_every_message_of_the_code():
    with open(LOCALE_DIR / f"{DOMAIN}.pot", "rb") as file:
        template = read_po(file)
    # After changing a message: pybabel extract (see babel.cfg), then update and translate.
    assert _catalog_ids(template) == _messages_in_code()


@pytest.mark.parametrize("language", ["de", "fr"])
def test_each_translation_is_complete_and_its_compiled_file_current(language):
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    with open(folder / f"{DOMAIN}.po", "rb") as file:
        catalog = read_po(file)
    with open(LOCALE_DIR / f"{DOMAIN}.pot", "rb") as file:
        template = read_po(file)
    assert _catalog_ids(catalog) == _catalog_ids(template)
    untranslated = [m.id for m in catalog if m.id and (m.fuzzy or not all(_strings(m)))]
    assert untranslated == []
    # The committed .mo is the .po compiled: pybabel compile -d openevent_schedule/locale
    # -D openevent_schedule after editing a translation.
    with open(folder / f"{DOMAIN}.mo", "rb") as file:
        compiled = read_mo(file)
    assert _translations(compiled) == _translations(catalog)


def _strings(message) -> tuple:
    return tuple(message.string) if isinstance(message.string, list | tuple) else (message.string,)


def _translations(catalog) -> dict:
    return {(m.id if isinstance(m.id, str) else tuple(m.id)): _strings(m) for m in catalog if m.id}
