"""Attribute kinds of API resources: how a value is parsed, rendered, filtered and described.

Each resource declares its attributes with these (see :mod:`openevent.api.resources`); the same
declaration drives request validation, serialization, ``filter[...]``/``sort`` and the OpenAPI
document, so they cannot disagree.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation

import nh3
import pytz

from openevent.models.event import validate_timezone


class Invalid(ValueError):
    """A value does not fit its field; the message says why, for the client."""


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
        if len(value.strip()) < self.min_length:
            raise Invalid("must not be empty" if self.min_length == 1 else "is too short")
        return value

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
        value = super().parse_value(value, ctx)
        return nh3.clean(
            value,
            tags=self.TAGS,
            attributes=self.ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
        )

    def schema(self):
        return {**super().schema(), "contentMediaType": "text/html"}


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


class Url(String):
    def __init__(self, attr=None, **kw):
        kw.setdefault("max_length", 2048)
        kw.setdefault("filterable", False)
        kw.setdefault("sortable", False)
        super().__init__(attr, **kw)

    def parse_value(self, value, ctx):
        value = super().parse_value(value, ctx).strip()
        if not value.startswith(("https://", "http://")):
            raise Invalid("must be an http or https URL")
        return value

    def schema(self):
        return {**super().schema(), "format": "uri"}


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

    def __init__(self, attr=None, *, minimum: int | None = None, **kw):
        super().__init__(attr, **kw)
        self.minimum = minimum

    def parse_value(self, value, ctx):
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("must be a whole number")
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"must be at least {self.minimum}")
        if abs(value) > 2**31 - 1:
            raise Invalid("is too large")
        return value

    def parse_query(self, raw, ctx):
        try:
            return self.parse_value(int(raw), ctx)
        except ValueError:
            raise Invalid("must be a whole number") from None

    def schema(self):
        schema = super().schema()
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        return schema


class Money(Field):
    """A decimal amount with two places, sent and rendered as a string ("19.99")."""

    operators = ("eq", "in", "lt", "gt", "le", "ge")

    def parse_value(self, value, ctx):
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise Invalid('must be a decimal string such as "19.99"')
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise Invalid('must be a decimal string such as "19.99"') from None
        if not amount.is_finite() or amount < 0:
            raise Invalid("must be zero or more")
        if amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e10"):
            raise Invalid("must have at most two decimal places and ten digits before them")
        return amount.quantize(Decimal("0.01"))

    def render(self, value, ctx):
        return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))

    def schema(self):
        return {**super().schema(), "pattern": r"^\d{1,10}(\.\d{1,2})?$"}


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
        return None if value is None else value.value

    def schema(self):
        return {**super().schema(), "enum": [member.value for member in self.enum_class]}


class DateTime(Field):
    """An instant. Input may carry any UTC offset, or none: then it is read in the event's
    timezone. Output is in the event's timezone with its offset."""

    operators = ("eq", "lt", "gt", "le", "ge")

    def parse_value(self, value, ctx):
        if not isinstance(value, str):
            raise Invalid("must be an ISO 8601 date and time string")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(
                "must be an ISO 8601 date and time, e.g. 2017-03-17T09:00:00+08:00"
            ) from None
        if parsed.tzinfo is None:
            return localize(parsed, ctx.tz)
        return parsed

    def parse_query(self, raw, ctx):
        # A '+' in a query string arrives as a space unless the client encoded it.
        return self.parse_value(raw.replace(" ", "+"), ctx)

    def render(self, value, ctx):
        return None if value is None else value.astimezone(ctx.tz).isoformat()

    def schema(self):
        return {**super().schema(), "format": "date-time"}


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
