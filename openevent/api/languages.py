"""/v1/languages: the languages a session may be given, named in the caller's locale.

The set is every ISO 639-1 (two-letter) code that Babel's CLDR data names in English: the codes
clients and browsers send, without the thousands of ISO 639-2/3 codes that would make a picker
unusable. It comes from the installed Babel, so it only changes when Babel is upgraded.

Each language has ``name``, its name in the requested locale (``?locale=``, default ``en``,
written ``de``, ``de_DE``, ``de-DE`` or ``pt_BR``), falling back to the English name where the
locale's data has none, and ``native-name``, its name in its own language where Babel has that
locale, else null. The list is sorted by ``name`` ignoring case and accents (the name decomposed
to NFKD, combining marks dropped, case-folded): close to the locale's own collation for the
Latin-script languages, without a dependency on ICU or the system's locales.

The list never changes for a locale, so it is computed once per locale and process.
``meta.locale`` says which Babel locale the names come from (``de-DE`` answers ``de_DE``).
"""

import re
import unicodedata
from functools import cache

from babel import Locale, UnknownLocaleError

from openevent.api.errors import JSONAPI, BadRequest
from openevent.api.openapi import describe

# Language, then optional script, territory or variant subtags, separated by "_" or "-".
_LOCALE_SYNTAX = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8}){0,3}$")

# The codes a session's language may take.
LANGUAGE_CODES: tuple[str, ...] = tuple(
    sorted(code for code in Locale("en").languages if len(code) == 2 and code.isalpha())
)


def _sort_key(name: str) -> tuple[str, str]:
    decomposed = unicodedata.normalize("NFKD", name)
    base = "".join(char for char in decomposed if not unicodedata.combining(char))
    return base.casefold(), name


def _native_name(code: str) -> str | None:
    try:
        return Locale(code).languages.get(code)
    except UnknownLocaleError:
        return None


@cache  # keyed by Babel's locale identifiers, a finite set
def _languages(locale_id: str) -> tuple[tuple[str, str, str | None], ...]:
    """(code, name, native name) of every language, sorted by name, for ``locale_id``."""
    names, english = Locale.parse(locale_id).languages, Locale("en").languages
    rows = [(code, names.get(code, english[code]), _native_name(code)) for code in LANGUAGE_CODES]
    return tuple(sorted(rows, key=lambda row: _sort_key(row[1])))


def _parse_locale(raw: str) -> str:
    """Babel's identifier for ``raw``; a 400 naming the parameter if it is not a known locale."""
    if _LOCALE_SYNTAX.match(raw):
        try:
            return str(Locale.parse(raw, sep="-" if "-" in raw else "_"))
        except (ValueError, UnknownLocaleError):
            pass
    raise BadRequest(
        f"locale {raw!r} is not a locale Babel knows; use e.g. en, de, de-DE or pt_BR",
        parameter="locale",
    )


def list_languages(request):
    """GET /v1/languages?locale=xx: every language, named in that locale."""
    unknown = [key for key in request.GET if key != "locale"]
    if unknown:
        raise BadRequest(f"unknown query parameter {unknown[0]!r}", parameter=unknown[0])
    if len(request.GET.getall("locale")) > 1:
        raise BadRequest("give locale once", parameter="locale")
    locale_id = _parse_locale(request.GET.get("locale", "en"))
    data = [
        {
            "type": "language",
            "id": code,
            "attributes": {"code": code, "name": name, "native-name": native},
        }
        for code, name, native in _languages(locale_id)
    ]
    return {
        "data": data,
        "links": {"self": request.path_qs},
        "meta": {"count": len(data), "locale": locale_id},
        "jsonapi": JSONAPI,
    }


_LANGUAGES = {
    "type": "object",
    "required": ["data", "meta"],
    "properties": {
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"const": "language"},
                    "id": {"type": "string"},
                    "attributes": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string"},
                            "name": {"type": "string"},
                            "native-name": {"type": ["string", "null"]},
                        },
                    },
                },
            },
        },
        "meta": {"type": "object"},
    },
}
describe(
    list_languages,
    "custom",
    summary="Languages sessions may use, named in ?locale=xx",
    response_schema=_LANGUAGES,
    parameters=(
        {
            "name": "locale",
            "in": "query",
            "description": "the locale to name the languages in: en, de, de-DE, pt_BR...",
            "schema": {"type": "string", "default": "en"},
        },
    ),
)


def includeme(config):
    config.add_route("language.collection", "/languages")
    config.add_view(
        list_languages, route_name="language.collection", request_method="GET", renderer="jsonapi"
    )
