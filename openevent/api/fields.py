"""Attribute kinds of API resources: how a value is parsed, rendered, filtered and described.

Each resource declares its attributes with these (see :mod:`openevent.api.resources`); the same
declaration drives request validation, serialization, ``filter[...]``/``sort`` and the OpenAPI
document, so they cannot disagree.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal

import nh3
import pytz

from openevent.models.event import validate_timezone
from openevent.previews import is_plain


class Invalid(ValueError):
    """A value does not fit its field; the message says why, for the client."""


# Every primary key is an INTEGER column: 32 bits on PostgreSQL, so no row has a larger id.
MAX_ID = 2**31 - 1
_ID = re.compile(r"0|[1-9][0-9]*")


def parse_id(raw) -> int:
    """An id as the API writes it: a string of ASCII digits, with no sign, space or leading
    zero, of at most :data:`MAX_ID`. Anything else raises :class:`Invalid`.

    ``str.isdigit()`` and ``int()`` are not enough: they take "²" or Arabic-Indic digits, and
    ``int()`` also spaces, signs and underscores, so "٣" would name row 3.
    """
    if not isinstance(raw, str) or not _ID.fullmatch(raw):
        raise Invalid('must be a string of digits, such as "42"')
    if len(raw) > len(str(MAX_ID)) or int(raw) > MAX_ID:
        raise Invalid(f"must be at most {MAX_ID}")
    return int(raw)


# C0 control characters but tab, line feed and carriage return. PostgreSQL refuses NUL in text
# (SQLite would store it), and none of them belongs in the text of an event.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def check_text(value: str) -> str:
    """``value``, unless it holds a control character (see above): then :class:`Invalid`."""
    if _CONTROL_CHARACTERS.search(value):
        raise Invalid("must not contain control characters such as NUL")
    return value


@dataclass(frozen=True)
class FieldContext:
    """What parsing and rendering depend on: the timezone of the event the row belongs to."""

    tz: tzinfo = pytz.utc


class Field:
    """A plain attribute: a JSON value stored as it is."""

    json_type = "string"
    operators: tuple[str, ...] = ("eq", "in")

    def __init__(
        self,
        attr: str | None = None,
        *,
        read_only: bool = False,
        required: bool = False,
        nullable: bool = True,
        filterable: bool = True,
        sortable: bool = True,
        description: str = "",
    ):
        self.attr = attr
        self.read_only = read_only
        self.required = required
        self.nullable = nullable and not required
        self.filterable = filterable
        self.sortable = sortable
        self.description = description

    def parse(self, value, ctx: FieldContext):
        if value is None:
            if not self.nullable:
                raise Invalid("must not be null")
            return None
        return self.parse_value(value, ctx)

    def parse_value(self, value, ctx: FieldContext):
        return value

    def render(self, value, ctx: FieldContext):
        return value

    def parse_query(self, raw: str, ctx: FieldContext):
        """A value from a query string (always text)."""
        return self.parse_value(raw, ctx)

    def schema(self) -> dict:
        schema = {"type": [self.json_type, "null"] if self.nullable else self.json_type}
        if self.read_only:
            schema["readOnly"] = True
        if self.description:
            schema["description"] = self.description
        return schema


class String(Field):
    def __init__(self, attr=None, *, max_length: int = 255, min_length: int = 0, **kw):
        super().__init__(attr, **kw)
        self.max_length = max_length
        self.min_length = min_length

    def parse_value(self, value, ctx):
        if not isinstance(value, str):
            raise Invalid("must be a string")
        if len(value) > self.max_length:
            raise Invalid(f"must be at most {self.max_length} characters")
        if self.min_length and len(value.strip()) < self.min_length:
            raise Invalid("must not be empty" if self.min_length == 1 else "is too short")
        return check_text(value)

    def schema(self):
        return {**super().schema(), "maxLength": self.max_length}


class Text(String):
    def __init__(self, attr=None, **kw):
        kw.setdefault("max_length", 100_000)
        kw.setdefault("filterable", False)
        kw.setdefault("sortable", False)
        super().__init__(attr, **kw)


class Html(Text):
    """HTML reduced to an allow-list: no scripts, no event handlers, no javascript: links."""

    TAGS = {
        "a",
        "b",
        "blockquote",
        "br",
        "code",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "sub",
        "sup",
        "u",
        "ul",
    }
    ATTRIBUTES = {"a": {"href", "title"}}

    def parse_value(self, value, ctx):
        text = super().parse_value(value, ctx)
        if is_plain(text):
            return text  # what the sanitizer would give back
        cleaned = self._cleaner().clean(text)
        # Sanitizing can make text longer (closing tags, escaped characters, rel attributes):
        # the maximum holds for what is stored.
        if len(cleaned) > self.max_length:
            raise Invalid(
                f"must be at most {self.max_length} characters once sanitized ({len(cleaned)} here)"
            )
        return cleaned

    @classmethod
    @functools.cache
    def _cleaner(cls) -> nh3.Cleaner:
        """The sanitizer, built once: building it costs as much as cleaning a paragraph, and
        an import cleans thousands."""
        return nh3.Cleaner(
            tags=cls.TAGS,
            attributes=cls.ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
        )

    def schema(self):
        schema = {**super().schema(), "contentMediaType": "text/html"}
        return _described(schema, "HTML, sanitized; maxLength holds for the sanitized text.")


class Email(String):
    _PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    def __init__(self, attr=None, **kw):
        kw.setdefault("max_length", 254)
        super().__init__(attr, **kw)

    def parse_value(self, value, ctx):
        value = super().parse_value(value, ctx).strip()
        if not self._PATTERN.match(value):
            raise Invalid("must be an email address")
        return value

    def schema(self):
        return {**super().schema(), "format": "email"}


# RFC 3986 (appendix A) for http and https URIs with a host: ``format: uri`` holds for any value
# that matches. A pchar is what a path segment, the query and the fragment are made of. Runs of
# plain characters are taken whole and never given back (possessive ``++``, ``*+``): the parts'
# character sets do not overlap their delimiters, so no other split could match, and a URL is
# checked in one pass instead of a step per character.
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]++|%[0-9A-Fa-f]{2})"
# No re.IGNORECASE: it would let the letter classes take non-ASCII letters that fold to ASCII
# ones (U+017F, the long s; U+212A, the Kelvin sign), and it makes every character's test slower
# (twice as slow a match). Only the scheme is case-insensitive.
_HTTP_URL = re.compile(
    rf"""
    [Hh][Tt][Tt][Pp][Ss]?://
    (?:(?:[A-Za-z0-9\-._~!$&'()*+,;=:]++|%[0-9A-Fa-f]{{2}})*+@)?               # userinfo
    (?:\[(?P<ip6>[0-9A-Fa-f:.]+)\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]++|%[0-9A-Fa-f]{{2}})++)  # host
    (?::(?P<port>[0-9]{{0,5}}))?                                              # port
    (?:/{_PCHAR}*+)*+                                                       # path
    (?:\?(?:{_PCHAR}|[/?]++)*+)?                                             # query
    (?:\#(?:{_PCHAR}|[/?]++)*+)?                                             # fragment
    """,
    re.VERBOSE,
)


class Url(String):
    """An absolute http or https URL with a host, as RFC 3986 writes it (format ``uri``)."""

    def __init__(self, attr=None, **kw):
        kw.setdefault("max_length", 2048)
        kw.setdefault("filterable", False)
        kw.setdefault("sortable", False)
        super().__init__(attr, **kw)

    def parse_value(self, value, ctx):
        value = super().parse_value(value, ctx).strip()
        match = _HTTP_URL.fullmatch(value)
        if (
            match is None
            or (match["ip6"] and not _is_ipv6(match["ip6"]))
            or int(match["port"] or 0) > 65535
        ):
            raise Invalid(
                "must be an http or https URL such as https://example.org/page, with spaces,"
                " quotes, angle brackets and non-ASCII text written as %XX"
            )
        return value

    def schema(self):
        return {**super().schema(), "format": "uri"}


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


class Color(String):
    _PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")

    def __init__(self, attr=None, **kw):
        super().__init__(attr, max_length=7, **kw)

    def parse_value(self, value, ctx):
        value = super().parse_value(value, ctx)
        if not self._PATTERN.match(value):
            raise Invalid("must be a colour like #3572a5")
        return value.lower()


class Timezone(String):
    def __init__(self, attr=None, **kw):
        super().__init__(attr, max_length=64, **kw)

    def parse_value(self, value, ctx):
        try:
            return validate_timezone(super().parse_value(value, ctx))
        except ValueError as exc:
            raise Invalid(str(exc)) from None

    def schema(self):
        return {**super().schema(), "description": "IANA timezone name, e.g. Asia/Singapore"}


class Integer(Field):
    json_type = "integer"
    operators = ("eq", "in", "lt", "gt", "le", "ge")
    _QUERY = re.compile(r"-?[0-9]+")

    def __init__(self, attr=None, *, minimum: int | None = None, maximum: int | None = None, **kw):
        super().__init__(attr, **kw)
        self.minimum = minimum
        self.maximum = maximum

    def parse_value(self, value, ctx):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("must be a whole number")
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise Invalid(f"must be at most {self.maximum}")
        if abs(value) > 2**31 - 1:
            raise Invalid("is too large")
        return value

    def parse_query(self, raw, ctx):
        # ASCII digits only: int() would also take "٣", " 3 " and "3_000".
        if not self._QUERY.fullmatch(raw):
            raise Invalid("must be a whole number")
        if len(raw.lstrip("-")) > 10:
            raise Invalid("is too large")
        return self.parse_value(int(raw), ctx)

    def schema(self):
        schema = super().schema()
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


class Number(Field):
    """A finite number between ``minimum`` and ``maximum`` (both included), stored as a float:
    a latitude, a longitude."""

    json_type = "number"
    operators = ("eq", "lt", "gt", "le", "ge")
    # ASCII digits, an optional sign and fraction; no exponent, NaN or Infinity.
    _QUERY = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")

    def __init__(self, attr=None, *, minimum: float, maximum: float, **kw):
        super().__init__(attr, **kw)
        self.minimum = minimum
        self.maximum = maximum

    def parse_value(self, value, ctx):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid("must be a number")
        # Compared before any conversion: float() of a huge integer overflows.
        if isinstance(value, float) and not math.isfinite(value):
            raise Invalid("must be a finite number")
        if not self.minimum <= value <= self.maximum:
            raise Invalid(f"must be from {self.minimum} to {self.maximum}")
        return float(value)

    def parse_query(self, raw, ctx):
        if not self._QUERY.fullmatch(raw):
            raise Invalid("must be a decimal number such as -122.66")
        return self.parse_value(float(raw), ctx)

    def schema(self):
        return {**super().schema(), "minimum": self.minimum, "maximum": self.maximum}


class Duration(Field):
    """A length of time written ``HH:MM`` (Open Event's session type ``length``), stored as
    whole minutes from ``minimum`` to ``maximum``."""

    operators = ("eq", "in", "lt", "gt", "le", "ge")
    _PATTERN = re.compile(r"([0-9]{1,2}):([0-5][0-9])")

    def __init__(self, attr=None, *, minimum: int = 1, maximum: int = 24 * 60, **kw):
        super().__init__(attr, **kw)
        self.minimum = minimum
        self.maximum = maximum

    def parse_value(self, value, ctx):
        match = self._PATTERN.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise Invalid('must be hours and minutes written "HH:MM", such as "00:45"')
        minutes = int(match[1]) * 60 + int(match[2])
        if not self.minimum <= minutes <= self.maximum:
            raise Invalid(
                f"must be from {self.render(self.minimum, ctx)} to {self.render(self.maximum, ctx)}"
            )
        return minutes

    def render(self, value, ctx):
        return None if value is None else f"{value // 60:02}:{value % 60:02}"

    def schema(self):
        schema = {**super().schema(), "pattern": f"^{self._PATTERN.pattern}$"}
        return _described(
            schema,
            f"Hours and minutes, from {self.render(self.minimum, None)}"
            f" to {self.render(self.maximum, None)}.",
        )


class Money(Field):
    """A decimal amount with two places, sent and rendered as a string ("19.99")."""

    operators = ("eq", "in", "lt", "gt", "le", "ge")
    # Ten digits before the point fit the Numeric(12, 2) column. ASCII digits only, no
    # exponent, sign, NaN or Infinity: Decimal() would take all of them.
    _PATTERN = re.compile(r"[0-9]{1,10}(\.[0-9]{1,2})?")
    _LIMIT = 10**10

    def parse_value(self, value, ctx):
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < self._LIMIT:
            return Decimal(value).quantize(Decimal("0.01"))
        if not isinstance(value, str) or not self._PATTERN.fullmatch(value):
            raise Invalid(
                "must be a decimal string of zero or more, with at most ten digits before the"
                ' point and two after it, such as "19.99"'
            )
        return Decimal(value).quantize(Decimal("0.01"))

    def render(self, value, ctx):
        return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))

    def schema(self):
        return {**super().schema(), "pattern": f"^{self._PATTERN.pattern}$"}


class Boolean(Field):
    json_type = "boolean"

    def parse_value(self, value, ctx):
        if not isinstance(value, bool):
            raise Invalid("must be true or false")
        return value

    def parse_query(self, raw, ctx):
        if raw not in ("true", "false"):
            raise Invalid("must be true or false")
        return raw == "true"


class Choice(Field):
    """One of an enum's values."""

    def __init__(self, enum_class: type[enum.Enum], attr=None, **kw):
        super().__init__(attr, **kw)
        self.enum_class = enum_class

    def parse_value(self, value, ctx):
        try:
            return self.enum_class(value)
        except ValueError:
            choices = ", ".join(member.value for member in self.enum_class)
            raise Invalid(f"must be one of {choices}") from None

    def render(self, value, ctx):
        # _value_ is what the value property returns, read without the property's descriptor.
        return None if value is None else value._value_

    def schema(self):
        return {**super().schema(), "enum": [member.value for member in self.enum_class]}


# The instants the API accepts, in UTC: [EARLIEST, LATEST). Far enough from the ends of
# Python's datetime (years 1 to 9999) that every accepted instant renders in every timezone, and
# still does after the event's timezone changes; wide enough for any event.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class DateTime(Field):
    """An instant. Input may carry any UTC offset, or none: then it is read in the event's
    timezone. Output is in the event's timezone with its offset."""

    operators = ("eq", "lt", "gt", "le", "ge")
    RANGE = f"from {EARLIEST:%Y-%m-%dT%H:%M:%SZ} up to, not including, {LATEST:%Y-%m-%dT%H:%M:%SZ}"

    def parse_value(self, value, ctx):
        if not isinstance(value, str):
            raise Invalid("must be an ISO 8601 date and time string")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(
                "must be an ISO 8601 date and time, e.g. 2017-03-17T09:00:00+08:00"
            ) from None
        # A year outside the range is refused before any arithmetic on it, which could overflow.
        if EARLIEST.year - 1 <= parsed.year <= LATEST.year:
            if parsed.tzinfo is None:
                parsed = localize(parsed, ctx.tz)
            if EARLIEST <= parsed < LATEST:
                return parsed
        raise Invalid(f"must be an instant {self.RANGE}")

    def parse_query(self, raw, ctx):
        # A '+' in a query string arrives as a space unless the client encoded it.
        return self.parse_value(raw.replace(" ", "+"), ctx)

    def render(self, value, ctx):
        if value is None:
            return None
        try:
            return isoformat_in(value, ctx.tz)
        except OverflowError:
            # Only an instant stored before the range above was enforced can fall outside
            # the years a timezone can show; it is shown in UTC rather than not at all.
            return value.astimezone(UTC).isoformat()

    def schema(self):
        schema = {**super().schema(), "format": "date-time"}
        return schema if self.read_only else _described(schema, f"An instant {self.RANGE}.")


def isoformat_in(value: datetime, tz: tzinfo) -> str:
    """``value.astimezone(tz).isoformat()``, about twice as fast for pytz's timezones: a list
    renders several instants per row, and pytz converts each in Python, making two datetimes
    on the way. Here the instant's offset is looked up as pytz looks it up (the last of the
    zone's transitions at or before it) among offsets whose text is written once per zone."""
    offsets = _utc_offsets(tz)
    if offsets is None or value.tzinfo is None:
        return value.astimezone(tz).isoformat()
    transitions, infos = offsets
    utc = value.replace(tzinfo=None)
    if value.tzinfo is not UTC and (shift := value.utcoffset()):
        utc -= shift
    offset, text = infos[max(0, bisect_right(transitions, utc) - 1)]
    return (utc + offset).isoformat() + text


@functools.cache
def _utc_offsets(tz: tzinfo) -> tuple[list[datetime], list[tuple[timedelta, str]]] | None:
    """The UTC instants (naive) from which ``tz``'s offsets apply, and each offset with its
    text in ISO 8601 (``+08:00``, or ``+05:53:28`` for a local mean time); None for a timezone
    that is neither fixed nor pytz's (then :func:`isoformat_in` asks the timezone)."""
    fixed = tz.utcoffset(None)
    if fixed is not None:
        return [datetime.min], [(fixed, _offset_text(tz))]
    transitions = getattr(tz, "_utc_transition_times", None)  # pytz's DstTzInfo
    if transitions is None:
        return None
    return transitions, [(info[0], _offset_text(tz._tzinfos[info])) for info in tz._transition_info]


def _offset_text(fixed: tzinfo) -> str:
    """How ``isoformat()`` writes the offset of a timezone with one offset."""
    return datetime(2000, 1, 1, tzinfo=fixed).isoformat().removeprefix("2000-01-01T00:00:00")


def _described(schema: dict, sentence: str) -> dict:
    """``schema`` with ``sentence`` after the description the field was given, if any."""
    return {**schema, "description": f"{schema.get('description', '')} {sentence}".lstrip()}


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """Attach ``tz`` to a wall-clock time; refuse times a DST change skips or repeats."""
    if not hasattr(tz, "localize"):
        return naive.replace(tzinfo=tz)
    try:
        return tz.localize(naive, is_dst=None)
    except pytz.NonExistentTimeError:
        raise Invalid(f"{naive.isoformat()} does not exist in {tz} (clocks skip it)") from None
    except pytz.AmbiguousTimeError:
        raise Invalid(f"{naive.isoformat()} happens twice in {tz}; give a UTC offset") from None


class Computed(Field):
    """A read-only value derived from the row by a function."""

    def __init__(self, compute, json_type: str = "string", **kw):
        kw.update(read_only=True, filterable=False, sortable=False)
        super().__init__(None, **kw)
        self.compute = compute
        self.json_type = json_type
