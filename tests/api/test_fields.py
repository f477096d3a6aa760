"""Field kinds on their own: ids, URLs, times and their range, control characters."""

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import pytz
from jsonschema import FormatChecker

from openevent.api.fields import (
    EARLIEST,
    LATEST,
    MAX_ID,
    DateTime,
    Duration,
    FieldContext,
    Html,
    Invalid,
    Number,
    String,
    Url,
    isoformat_in,
    parse_id,
)


@pytest.mark.parametrize("raw", ["0", "1", "42", str(MAX_ID)])
def test_ids_are_ascii_digits(raw):
    assert parse_id(raw) == int(raw)


@pytest.mark.parametrize(
    "raw",
    [
        # Arabic-Indic three, superscript two, full-width three.
        *["\u0663", "\u00b2", "\uff13"],
        *["", "01", "+1", "-1", " 1", "1 ", "1_0", "1.0", "1e3", "1\n"],
        *[str(MAX_ID + 1), str(2**64), "9" * 5000, 1, 1.0, True, None, ["1"]],
    ],
)
def test_anything_else_is_not_an_id(raw):
    with pytest.raises(Invalid):
        parse_id(raw)


CONFORMING_URLS = [
    "https://example.org",
    "http://example.org/",
    "HTTPS://Example.org:8443/a/b;c=d?q=1&r=%20x#frag/ment?",
    "https://user:pa%20ss@example.org/",
    "https://[2001:db8::1]:443/",
    "https://192.0.2.1/it's-(fine)!*",
    "https://example.org/~user/@handle/:colon",
    "https://xn--r8jz45g.jp/",
]
NOT_URLS = [
    "https://example.org/a b",
    'https://example.org/"quoted"',
    "https://example.org/<script>",
    "https://example.org/{x}",
    "https://example.org/a|b",
    "https://example.org/a\\b",
    "https://example.org/^",
    "https://example.org/`",
    "https://例え.jp/",
    "https://example.org/é",
    "https://example.org/\u017f",  # the long s, which folds to s
    "https://\u212aelvin.example.org/",  # the Kelvin sign, which folds to k
    "http\u017f://example.org/",
    "https://example.org/%zz",
    "https://example.org/%",
    "https://example.org/#a#b",
    "https://example.org/[x]",
    "https://a@b@example.org/",
    "https://[:::::]/",
    "https://[v1.x]/",
    "https://example.org:99999/",
    "https://example.org:port/",
    "https://",
    "https:///path",
    "https://:443/",
    "https://user@/",
    "ftp://example.org/",
    "javascript:alert(1)",
    "//example.org/",
    "example.org",
]


@pytest.mark.parametrize("url", CONFORMING_URLS)
def test_http_urls_with_a_host_are_accepted_and_conform_to_format_uri(url):
    assert Url().parse(url, FieldContext()) == url
    assert FormatChecker().conforms(url, "uri")


@pytest.mark.parametrize("url", NOT_URLS)
def test_anything_else_is_not_a_url(url):
    with pytest.raises(Invalid):
        Url().parse(url, FieldContext())


def test_urls_are_trimmed():
    assert Url().parse("  https://example.org/ ", FieldContext()) == "https://example.org/"


def test_the_edges_of_the_range_render_in_every_timezone_and_read_back():
    field = DateTime()
    for zone in pytz.all_timezones:
        ctx = FieldContext(pytz.timezone(zone))
        for instant in (EARLIEST, LATEST - timedelta(microseconds=1)):
            shown = field.render(instant, ctx)
            assert field.parse(shown, ctx) == instant, zone


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ((EARLIEST - timedelta(microseconds=1)).isoformat(), "UTC"),
        (LATEST.isoformat(), "UTC"),
        # Wall-clock times inside the years of the range, outside it in UTC.
        ("1900-01-01T13:59:59", "Etc/GMT-14"),
        ("2199-12-31T23:00:00", "Etc/GMT+12"),
        # Offsets Python reads, at the ends of its years.
        ("0001-01-01T00:00:00+23:59", "UTC"),
        ("9999-12-31T23:59:59-23:59", "UTC"),
    ],
)
def test_just_outside_the_range_is_refused_in_every_form(text, zone):
    with pytest.raises(Invalid, match="from 1900-01-01T00:00:00Z"):
        DateTime().parse(text, FieldContext(pytz.timezone(zone)))


def test_the_range_is_in_the_schema():
    assert "1900-01-01T00:00:00Z" in DateTime().schema()["description"]
    assert "2200-01-01T00:00:00Z" in DateTime(description="When.").schema()["description"]
    assert "description" not in DateTime(read_only=True).schema()


@pytest.mark.parametrize("char", [chr(code) for code in range(32) if chr(code) not in "\t\n\r"])
def test_c0_control_characters_are_refused_in_every_string_field(char):
    for field in (String(), Html(), Url()):
        with pytest.raises(Invalid, match="control characters"):
            field.parse(f"https://example.org/{char}", FieldContext())


def test_html_declares_and_holds_the_length_of_what_it_stores():
    field = Html(max_length=20)
    assert field.schema()["maxLength"] == 20
    assert "sanitized text" in field.schema()["description"]
    assert field.parse("<b>" + "x" * 13, FieldContext()) == "<b>" + "x" * 13 + "</b>"
    with pytest.raises(Invalid, match="once sanitized"):
        field.parse("<b>" + "x" * 14, FieldContext())


def _instants_to_try(zone, rng) -> list[datetime]:
    """The second before, at and after each of ``zone``'s changes of offset within the range,
    the range's edges, and instants at random (with microseconds)."""
    instants = [EARLIEST, LATEST - timedelta(microseconds=1)]
    for change in getattr(zone, "_utc_transition_times", [])[1:]:
        if EARLIEST.year <= change.year < LATEST.year:
            at = change.replace(tzinfo=UTC)
            instants += [at - timedelta(seconds=1), at, at + timedelta(seconds=1)]
    span = int((LATEST - EARLIEST).total_seconds())
    for _ in range(10):
        offset = timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6))
        instants.append(EARLIEST + offset)
    return instants


def test_instants_render_in_every_timezone_as_python_writes_them():
    rng = random.Random(17)
    zones = [pytz.timezone(name) for name in pytz.all_timezones]
    zones += [pytz.utc, UTC, timezone(timedelta(hours=-3, minutes=-30)), pytz.FixedOffset(345)]
    zones.append(ZoneInfo("Europe/Berlin"))  # not pytz's: asked for its offsets
    for zone in zones:
        for instant in _instants_to_try(zone, rng):
            for value in (instant, instant.astimezone(timezone(timedelta(hours=8)))):
                expected = value.astimezone(zone).isoformat()
                assert isoformat_in(value, zone) == expected, (zone, value)


def test_utc_rendering_is_the_fallback_only_for_unrepresentable_local_times():
    field = DateTime()
    ctx = FieldContext(pytz.timezone("America/New_York"))
    assert field.render(datetime(1, 1, 1, 1, tzinfo=UTC), ctx) == "0001-01-01T01:00:00+00:00"
    assert field.render(datetime(2030, 1, 1, tzinfo=UTC), ctx) == "2029-12-31T19:00:00-05:00"


@pytest.mark.parametrize(("value", "parsed"), [(0, 0.0), (-90, -90.0), (90.0, 90.0), (1.5, 1.5)])
def test_numbers_within_their_range(value, parsed):
    assert Number(minimum=-90, maximum=90).parse(value, FieldContext()) == parsed


@pytest.mark.parametrize("value", [90.0001, -91, 10**400, True, "1", [1], {}])
def test_numbers_outside_their_range_or_not_numbers(value):
    with pytest.raises(Invalid):
        Number(minimum=-90, maximum=90).parse(value, FieldContext())


@pytest.mark.parametrize("raw", ["1", "-1.25", "0.000001"])
def test_numbers_in_query_strings(raw):
    assert Number(minimum=-90, maximum=90).parse_query(raw, FieldContext()) == float(raw)


@pytest.mark.parametrize("raw", ["1e1", "nan", "inf", "-", ".5", "1.", " 1", "\u0663", "1" * 21])
def test_numbers_in_query_strings_are_plain_decimals(raw):
    with pytest.raises(Invalid):
        Number(minimum=-90, maximum=90).parse_query(raw, FieldContext())


@pytest.mark.parametrize(
    ("raw", "minutes", "shown"),
    [
        ("00:01", 1, "00:01"),
        ("0:25", 25, "00:25"),
        ("01:30", 90, "01:30"),
        ("24:00", 1440, "24:00"),
    ],
)
def test_durations_are_hours_and_minutes(raw, minutes, shown):
    field = Duration()
    assert field.parse(raw, FieldContext()) == minutes
    assert field.render(minutes, FieldContext()) == shown


@pytest.mark.parametrize("raw", ["00:00", "24:01", "1:5", "01:60", "100:00", "01.30", 30, None])
def test_durations_outside_the_bounds_or_form_are_invalid(raw):
    with pytest.raises(Invalid):
        Duration(nullable=False).parse(raw, FieldContext())
