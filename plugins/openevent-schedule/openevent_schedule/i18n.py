"""The site's languages: which one a page is in, its translations, its dates and times.

Translations are gettext catalogs (``locale/<language>/LC_MESSAGES/openevent_schedule.mo``,
compiled from the ``.po`` files with Babel and committed beside them), read through Pyramid's
:func:`~pyramid.i18n.make_localizer`. A page's language is the ``lang`` query parameter, or
else the best match of the browser's ``Accept-Language``, or else English. Dates and times are
formatted by Babel for that language, in the event's timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_time,
    get_timezone_name,
)
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.i18n import Localizer, make_localizer

from openevent_schedule.timetable import local_time

DOMAIN = "openevent_schedule"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"  # the templates' own


def _translated() -> tuple[str, ...]:
    found = {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return tuple(sorted(found | {SOURCE_LANGUAGE}))


LANGUAGES = _translated()


def choose_language(request) -> str:
    """The language of the page ``request`` asks for; 400 for a ``lang`` the site lacks."""
    asked = request.GET.get("lang")
    if asked is not None:
        if asked not in LANGUAGES:
            raise HTTPBadRequest(f"lang must be one of {', '.join(LANGUAGES)}")
        return asked
    return request.accept_language.lookup(language_tags=LANGUAGES, default=SOURCE_LANGUAGE)


@cache
def _localizer(language: str) -> Localizer:
    return make_localizer(language, [str(LOCALE_DIR)])


@lru_cache(maxsize=4096)
def _short_time(clock: time, language: str) -> str:
    # A schedule shows the same few times again and again: Babel formats each once.
    return format_time(clock, "short", locale=language)


@cache
def language_names() -> dict[str, str]:
    """Each language's name in itself ("Deutsch", "français"), as the switch shows it."""
    return {code: Locale.parse(code).get_display_name(code) for code in LANGUAGES}


@dataclass(frozen=True)
class Language:
    """A page's language: its translations, and dates and times formatted for it."""

    code: str
    tz: tzinfo

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.code)

    def gettext(self, message: str) -> str:
        return _localizer(self.code).translate(message, domain=DOMAIN)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _localizer(self.code).pluralize(singular, plural, n, domain=DOMAIN)

    # Dates and times, in the event's timezone.

    def local(self, moment: datetime) -> datetime:
        return local_time(moment, self.tz)

    def time(self, moment: datetime) -> str:
        """``2:25 PM`` in English, ``14:25`` in German."""
        return _short_time(self.local(moment).time(), self.code)

    def date(self, day: date) -> str:
        """``Friday, March 17, 2017``."""
        return format_date(day, "full", locale=self.code)

    def short_date(self, day: date) -> str:
        """``Fri, Mar 17``: a day of the schedule."""
        return format_skeleton("MMMEd", day, locale=self.code)

    def datetime(self, moment: datetime) -> str:
        """``Friday, March 17, 2017, 9:00 AM``."""
        local = self.local(moment)
        return f"{self.date(local.date())}, {self.time(local)}"

    def zone(self, moment: datetime) -> str:
        """The timezone's abbreviation at ``moment``: this language's own where CLDR has one
        (``MEZ`` in German, ``PST`` in English), else the tz database's (``CET`` in English),
        else the UTC offset (``+0800`` for Singapore, whose tz database abbreviation is
        ``+08``)."""
        local = self.local(moment)
        # For most zones Babel's short name in English is an offset, not the abbreviation
        # readers know.
        babel = get_timezone_name(local, width="short", locale=self.code)
        if babel.isalpha():
            return babel
        database = local.tzname()
        return database if database and database.isalpha() else babel

    def zone_name(self, moment: datetime) -> str:
        """``Singapore Standard Time``, ``Mitteleuropäische Normalzeit``."""
        return format_datetime(self.local(moment), "zzzz", locale=self.code)

    def iso(self, moment: datetime) -> str:
        """For ``<time datetime>``: the instant with the event's UTC offset."""
        return self.local(moment).isoformat(timespec="minutes")
