"""Classes of bad input get a 4xx JSON:API error that names the problem, the same on SQLite and
PostgreSQL, and change nothing (issue 9): ids, times, text, amounts, lists in query strings and
the documents that views read by hand."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import orjson
import pytest
from sqlalchemy import func, select

from openevent.api.fields import EARLIEST, LATEST, MAX_ID
from openevent.models import EventPlugin, Microlocation, Role, Session, Ticket, Track, User
from openevent.models.event import EventRole
from openevent.testing import (
    JSONAPI_HEADERS,
    jsonapi_document,
    make_event,
    make_speaker,
    make_user,
)


def arabic_indic(number: int) -> str:
    """``number`` in Arabic-Indic digits, which str.isdigit() and int() both take."""
    return "".join(chr(0x660 + int(digit)) for digit in str(number))


def superscript(number: int) -> str:
    """``number`` in superscript digits, which str.isdigit() takes and int() does not."""
    return "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(digit)] for digit in str(number))


def not_ids(number: int) -> list[str]:
    """Ways of writing ``number``, the id of a real row, that are not its id."""
    return [
        arabic_indic(number),
        superscript(number),
        f"0{number}",
        f"+{number}",
        f" {number}",
        f"{number} ",
        f"{number}.0",
        f"{number}_0",
        f"{number}\x00",
    ]


# Beyond the INTEGER ids of PostgreSQL, of 64 bits, and longer than int() converts.
TOO_LARGE = [str(MAX_ID + 1), str(2**63), str(2**64), "9" * 30, "9" * 5000]


def in_event(event, type_: str, **attributes) -> dict:
    """A document creating a ``type_`` in ``event``."""
    return jsonapi_document(type_, attributes, event=("event", event.id))


def error_of(response, status: int, **source) -> dict:
    error = response.json["errors"][0]
    assert response.content_type == "application/vnd.api+json"
    assert error["status"] == str(status)
    if source:
        assert error["source"] == source
    return error


@pytest.fixture
def track(dbsession, event):
    track = Track(event=event, name="Main")
    dbsession.add(track)
    dbsession.flush()
    return track


def count(dbsession, model) -> int:
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(model))


# Ids in URLs, pages, linkage and filters


@pytest.mark.parametrize("path", ["/v1/events/{event}", "/v1/events/{event}/sessions"])
def test_url_ids_that_are_not_ascii_digits_in_range_are_404(testapp, event, headers, path):
    testapp.get(path.format(event=event.id), headers=headers, status=200)
    for raw in not_ids(event.id) + TOO_LARGE:
        response = testapp.get(path.format(event=quote(raw)), headers=headers, status=404)
        error_of(response, 404)


def test_row_and_event_type_ids_go_through_the_same_parser(testapp, event, headers, track):
    testapp.get(f"/v1/tracks/{track.id}", headers=headers, status=200)
    for raw in [arabic_indic(track.id), superscript(track.id), *TOO_LARGE]:
        testapp.get(f"/v1/tracks/{quote(raw)}", headers=headers, status=404)
        testapp.get(f"/v1/event-types/{quote(raw)}", status=404)
        testapp.patch_json(f"/v1/tracks/{quote(raw)}", {}, headers=headers, status=404)


def test_role_ids_in_urls_are_parsed_strictly(testapp, dbsession, event, headers, owner):
    other = make_user(dbsession, password=None)
    role = EventRole(event=event, user=other, role=Role.ORGANIZER)
    dbsession.add(role)
    dbsession.flush()
    for raw in [arabic_indic(role.id), superscript(role.id), f"0{role.id}", *TOO_LARGE]:
        url = f"/v1/events/{event.id}/roles/{quote(raw)}"
        error_of(testapp.delete(url, headers=headers, status=404), 404)
    dbsession.expire_all()
    assert dbsession.get(EventRole, role.id) is not None


@pytest.mark.parametrize("name", ["number", "size"])
@pytest.mark.parametrize(
    "raw",
    [
        "0",
        "-1",
        superscript(2),
        arabic_indic(1),
        "01",
        " 1",
        "+1",
        "1.0",
        "1e3",
        str(MAX_ID + 1),
        "9" * 5000,
    ],
)
def test_page_parameters_out_of_syntax_or_range_are_400(testapp, event, name, raw):
    key = f"page[{name}]"
    response = testapp.get(f"/v1/events?{quote(key)}={quote(raw)}", status=400)
    error_of(response, 400, parameter=key)


def test_the_last_possible_page_is_empty_not_an_overflow(testapp, event):
    # The largest page number and size: an OFFSET of about 2**38, within 64 bits everywhere.
    response = testapp.get(f"/v1/events?page[number]={MAX_ID}&page[size]=100", status=200)
    assert response.json["data"] == []
    assert response.json["meta"]["count"] == 1
    assert response.json["links"]["next"] is None


@pytest.mark.parametrize("linkage", ["track", "speakers"])
def test_linkage_ids_must_be_strings_of_ascii_digits(
    testapp, dbsession, event, headers, track, linkage
):
    speaker = make_speaker(dbsession, event)
    row_id = track.id if linkage == "track" else speaker.id
    type_ = "track" if linkage == "track" else "speaker"
    bad_ids = [row_id, float(row_id), True, None, [str(row_id)], f" {row_id} ", *not_ids(row_id)]
    for bad in bad_ids + TOO_LARGE:
        identifier = {"type": type_, "id": bad}
        body = jsonapi_document("session", {"title": "Talk"}, event=("event", event.id))
        body["data"]["relationships"][linkage] = {
            "data": identifier if linkage == "track" else [identifier]
        }
        response = testapp.post_json("/v1/sessions", body, headers=headers, status=422)
        error_of(response, 422, pointer=f"/data/relationships/{linkage}/data")
    assert count(dbsession, Session) == 0


@pytest.mark.parametrize("bad", [3, arabic_indic(3), " 3", str(MAX_ID + 1), "9" * 5000])
def test_the_event_linkage_of_a_create_is_parsed_strictly(testapp, dbsession, headers, bad):
    body = jsonapi_document("session", {"title": "Talk"})
    body["data"]["relationships"] = {"event": {"data": {"type": "event", "id": bad}}}
    response = testapp.post_json("/v1/sessions", body, headers=headers, status=422)
    error_of(response, 422, pointer="/data/relationships/event/data")


def test_a_linked_id_of_another_event_reads_as_one_that_does_not_exist(
    testapp, dbsession, event, headers
):
    elsewhere = make_event(dbsession)
    foreign = {"track": Track(event=elsewhere, name="Elsewhere"), "speaker": None}
    dbsession.add(foreign["track"])
    foreign["speaker"] = make_speaker(dbsession, elsewhere)
    missing = max(foreign["track"].id, foreign["speaker"].id) + 1000

    def detail(linkage: str, type_: str, id_: int) -> str:
        target = {"type": type_, "id": str(id_)}
        body = jsonapi_document("session", {"title": "Talk"}, event=("event", event.id))
        linked = [target] if type_ == "speaker" else target
        body["data"]["relationships"][linkage] = {"data": linked}
        response = testapp.post_json("/v1/sessions", body, headers=headers, status=422)
        # The same words but for the id.
        return error_of(response, 422)["detail"].replace(str(id_), "ID")

    for linkage, type_ in [("track", "track"), ("speakers", "speaker")]:
        assert detail(linkage, type_, foreign[type_].id) == detail(linkage, type_, missing)
    assert count(dbsession, Session) == 0


@pytest.mark.parametrize(
    "raw",
    [
        arabic_indic(3),
        superscript(2),
        " 3",
        "3_0",
        "1e3",
        "99999999999",
        "9" * 5000,
        "3," + superscript(2),
        "1,99999999999",
    ],
)
def test_integer_filters_take_ascii_whole_numbers_in_range(testapp, dbsession, event, raw):
    dbsession.add(Microlocation(event=event, name="Room 3", position=3))
    dbsession.flush()
    url = f"/v1/events/{event.id}/microlocations"
    assert len(testapp.get(f"{url}?filter[position]=3").json["data"]) == 1
    op = "[in]" if "," in raw else ""
    key = f"filter[position]{op}"
    response = testapp.get(f"{url}?{quote(key)}={quote(raw)}", status=400)
    error_of(response, 400, parameter=key)


# Times


EDGES = [
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-14:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59",
    "0000-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "2017-03-17T09:00:00+24:00",
    "2017-03-17T09:00:00+99:99",
    "1899-12-31T23:59:59Z",
    "1900-01-01T00:00:00+00:01",
    "2200-01-01T00:00:00Z",
    "2199-12-31T23:59:59-00:01",
]


@pytest.mark.parametrize("value", EDGES)
def test_times_outside_the_accepted_range_are_422_on_write(testapp, event, headers, value):
    body = jsonapi_document("event", {"starts-at": value}, id=event.id)
    response = testapp.patch_json(f"/v1/events/{event.id}", body, headers=headers, status=422)
    error_of(response, 422, pointer="/data/attributes/starts-at")


@pytest.mark.parametrize("value", EDGES)
def test_times_outside_the_accepted_range_are_400_in_filters(testapp, event, value):
    key = "filter[starts-at][ge]"
    response = testapp.get(f"/v1/events?{quote(key)}={quote(value)}", status=400)
    error_of(response, 400, parameter=key)


def test_the_edges_of_the_range_are_accepted_and_render_in_every_timezone(
    testapp, dbsession, event, headers
):
    url = f"/v1/events/{event.id}"
    first, last = "1900-01-01T00:00:00+00:00", "2199-12-31T23:59:59.999999+00:00"
    body = jsonapi_document(
        "event", {"starts-at": first, "ends-at": last, "timezone": "UTC"}, id=event.id
    )
    testapp.patch_json(url, body, headers=headers, status=200)
    # The furthest east and west: the local times fall outside the years the range names,
    # and still render; the instants do not move.
    for zone in ["Pacific/Kiritimati", "Etc/GMT+12", "America/Adak", "Asia/Kolkata"]:
        body = jsonapi_document("event", {"timezone": zone}, id=event.id)
        attributes = testapp.patch_json(url, body, headers=headers).json["data"]["attributes"]
        assert datetime.fromisoformat(attributes["starts-at"]) == EARLIEST
        assert datetime.fromisoformat(attributes["ends-at"]) == LATEST - timedelta(microseconds=1)
        testapp.get(f"/v1/events?filter[starts-at]={quote(attributes['starts-at'])}", status=200)


def test_a_time_stored_before_the_range_existed_still_renders(testapp, dbsession, token_for):
    # Such a value could be stored before: an instant early in year 1, UTC. Shown in New York,
    # it would be in year 0, which Python cannot represent; it is shown in UTC instead.
    owner = make_user(dbsession, password=None)
    event = make_event(
        dbsession,
        owner=owner,
        timezone="America/New_York",
        starts_at=datetime(1, 1, 1, 1, tzinfo=UTC),
        ends_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    response = testapp.get(f"/v1/events/{event.id}", headers=token_for(owner), status=200)
    assert response.json["data"]["attributes"]["starts-at"] == "0001-01-01T01:00:00+00:00"


# Text: control characters, the same answer on every database


CONTROL = ["a\x00b", "\x00", "a\x01", "a\x08b", "a\x0bb", "a\x1bb", "a\x1f"]


@pytest.mark.parametrize("value", CONTROL)
@pytest.mark.parametrize("name", ["title", "short-abstract", "language"])
def test_control_characters_in_attributes_are_422(testapp, dbsession, event, headers, value, name):
    body = jsonapi_document("session", {"title": "Talk", name: value}, event=("event", event.id))
    response = testapp.post_json("/v1/sessions", body, headers=headers, status=422)
    error_of(response, 422, pointer=f"/data/attributes/{name}")
    assert count(dbsession, Session) == 0


def test_tabs_and_line_breaks_are_text(testapp, event, headers):
    text = "one\ttwo\r\nthree\n"
    body = jsonapi_document("session", {"title": text}, event=("event", event.id))
    response = testapp.post_json("/v1/sessions", body, headers=headers, status=201)
    assert response.json["data"]["attributes"]["title"] == text


@pytest.mark.parametrize("value", ["a%00b", "%00", "a%1Fb", "%1b"])
@pytest.mark.parametrize("key", ["filter[name]", "filter[name][in]", "sort", "include", "x"])
def test_control_characters_in_query_strings_are_400(testapp, event, key, value):
    response = testapp.get(f"/v1/events?{quote(key)}={value}", status=400)
    error_of(response, 400, parameter=key)
    # In a parameter's name too.
    response = testapp.get(f"/v1/events?{quote(key)}{value}=1", status=400)
    assert error_of(response, 400)["source"]["parameter"].startswith(key)


@pytest.mark.parametrize("field", ["email", "password"])
def test_control_characters_at_login_are_422(testapp, dbsession, field):
    user = make_user(dbsession, email="ada@example.org")
    credentials = {"email": user.email, "password": "correct horse"}
    testapp.post_json("/v1/auth/login", credentials, status=200)
    credentials[field] += "\x00"
    response = testapp.post_json("/v1/auth/login", credentials, status=422)
    error_of(response, 422, pointer=f"/{field}")


@pytest.mark.parametrize("field", ["email", "password"])
def test_control_characters_at_registration_are_422(testapp, dbsession, field):
    attributes = {"email": "ada@example.org", "password": "analytical engine"}
    attributes[field] = attributes[field].replace("@", "\x00@").replace("engine", "\x00engine")
    body = jsonapi_document("user", attributes)
    response = testapp.post_json("/v1/users", body, headers=JSONAPI_HEADERS, status=422)
    error_of(response, 422, pointer=f"/data/attributes/{field}")
    assert count(dbsession, User) == 0


def test_lone_surrogates_never_reach_the_database(testapp, event, headers):
    # JSON may escape one; the parser refuses it as it refuses any invalid JSON.
    body = b'{"data": {"type": "session", "attributes": {"title": "\\ud800"}}}'
    testapp.post("/v1/sessions", body, headers=headers, status=400)
    # Percent-encoded in a URL, it is not UTF-8.
    testapp.get("/v1/events?filter[name]=%ED%A0%80", status=400)


# Amounts and numbers


@pytest.mark.parametrize(
    "price",
    [
        "1e400",
        "1e-400",
        "1E+999999999999999999",
        "NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "9" * 5000,
        "0." + "0" * 5000 + "1",
        "10000000000",
        arabic_indic(12),
        " 5",
        "5_000",
        "-1",
        "-0",
        "1.999",
        "0x10",
        "",
        1.5,
        10**10,
        2**64,
        -1,
        True,
        None,
    ],
)
def test_prices_that_do_not_fit_are_422(testapp, dbsession, event, headers, price):
    body = in_event(event, "ticket", name="Standard", price=price)
    response = testapp.post_json("/v1/tickets", body, headers=headers, status=422)
    error_of(response, 422, pointer="/data/attributes/price")
    assert count(dbsession, Ticket) == 0


@pytest.mark.parametrize("price", ["0", "19.99", "9999999999.99", "5.5", 0, 9_999_999_999])
def test_prices_that_fit_are_stored_with_two_places(testapp, event, headers, price):
    body = in_event(event, "ticket", name="Standard", price=price)
    response = testapp.post_json("/v1/tickets", body, headers=headers, status=201)
    assert response.json["data"]["attributes"]["price"] == f"{float(price):.2f}"


@pytest.mark.parametrize("raw", ["1e400", "NaN", "Infinity", "9" * 5000, arabic_indic(12), "-1"])
def test_price_filters_that_do_not_fit_are_400(testapp, event, raw):
    key = "filter[price][ge]"
    response = testapp.get(f"/v1/events/{event.id}/tickets?{quote(key)}={quote(raw)}", status=400)
    error_of(response, 400, parameter=key)


@pytest.mark.parametrize(
    "raw", [b"1e400", b"-1e400", b"NaN", b"Infinity", b"18446744073709551616", b"1" * 5000]
)
@pytest.mark.parametrize("name", ["price", "quantity"])
def test_json_numbers_beyond_what_a_field_takes_are_a_clean_4xx(
    testapp, dbsession, event, headers, raw, name
):
    body = orjson.dumps(
        in_event(event, "ticket", **{"name": "Standard", name: "PLACEHOLDER"})
    ).replace(b'"PLACEHOLDER"', raw)
    response = testapp.post("/v1/tickets", body, headers=headers, expect_errors=True)
    # Numbers JSON parsers cannot read are malformed JSON (400); those they can are refused
    # by the field (422).
    assert response.status_int in (400, 422)
    error_of(response, response.status_int)
    assert count(dbsession, Ticket) == 0


# Documents read by hand: the plugin switch, login


def plugin_item(**fields) -> dict:
    return {"type": "event-plugin", "id": "sample", "attributes": {"enabled": False}, **fields}


@pytest.mark.parametrize(
    ("document", "status", "pointer"),
    [
        ({"data": [plugin_item(attributes=[])]}, 400, "/data/0/attributes"),
        ({"data": [plugin_item(attributes="enabled")]}, 400, "/data/0/attributes"),
        ({"data": [plugin_item(attributes=None)]}, 400, "/data/0/attributes"),
        ({"data": ["sample"]}, 400, "/data/0"),
        ({"data": [["sample", False]]}, 400, "/data/0"),
        ({"data": [None]}, 400, "/data/0"),
        ({"data": plugin_item()}, 400, "/data"),
        ({"data": [plugin_item(id=["sample"])]}, 422, "/data/0/id"),
        ({"data": [plugin_item(id={"name": "sample"})]}, 422, "/data/0/id"),
        ({"data": [plugin_item(id=1)]}, 422, "/data/0/id"),
        ({"data": [plugin_item(id=None)]}, 422, "/data/0/id"),
        ({"data": [plugin_item(id="sample\x00")]}, 422, "/data/0/id"),
        ({"data": [plugin_item(attributes={"enabled": None})]}, 422, "/data/0/attributes/enabled"),
        ({"data": [plugin_item(attributes={"settings": []})]}, 422, "/data/0/attributes/settings"),
        ({"data": [plugin_item(type=["event-plugin"])]}, 409, "/data/0/type"),
    ],
)
def test_malformed_plugin_switches_are_4xx_and_change_nothing(
    testapp, dbsession, event, headers, document, status, pointer
):
    url = f"/v1/events/{event.id}/plugins"
    response = testapp.patch_json(url, document, headers=headers, status=status)
    error_of(response, status, pointer=pointer)
    assert count(dbsession, EventPlugin) == 0


@pytest.mark.parametrize("body", [[], "x", None, {"email": ["a"], "password": "b"}])
def test_malformed_login_documents_are_4xx(testapp, body):
    response = testapp.post_json("/v1/auth/login", body, expect_errors=True)
    assert response.status_int in (400, 422)


# The JSON:API contract: ids are the server's, and strings


@pytest.mark.parametrize("id_", ["1", "99", 1, "", None])
def test_a_create_with_a_client_generated_id_is_403(testapp, dbsession, event, headers, id_):
    body = jsonapi_document("session", {"title": "Talk"}, event=("event", event.id))
    body["data"]["id"] = id_
    response = testapp.post_json("/v1/sessions", body, headers=headers, status=403)
    error_of(response, 403, pointer="/data/id")
    body = jsonapi_document("event", {"name": "Mine"})
    body["data"]["id"] = id_
    testapp.post_json("/v1/events", body, headers=headers, status=403)
    assert count(dbsession, Session) == 0


@pytest.mark.parametrize("id_", ["missing", None, [], True])
def test_an_update_names_its_id_as_a_string(testapp, event, headers, id_):
    body = jsonapi_document("event", {"name": "Renamed"})
    if id_ == "missing":
        id_ = event.id  # the number, not the string
    if id_ is not None:
        body["data"]["id"] = id_
    response = testapp.patch_json(f"/v1/events/{event.id}", body, headers=headers, status=400)
    error_of(response, 400, pointer="/data/id")


# Lists in query strings are bounded


@pytest.mark.parametrize(
    ("key", "item"),
    [
        ("filter[name][in]", "FOSSASIA"),
        ("sort", "name"),
        ("fields[event]", "name"),
        ("include", "event-type"),
    ],
)
def test_lists_in_query_strings_take_at_most_100_items(testapp, event, key, item):
    testapp.get(f"/v1/events?{quote(key)}={','.join([item] * 100)}", status=200)
    response = testapp.get(f"/v1/events?{quote(key)}={','.join([item] * 101)}", status=400)
    error_of(response, 400, parameter=key)


def test_sixty_thousand_values_are_refused_at_once(testapp, event):
    values = ",".join(f"title {i}" for i in range(60_000))
    response = testapp.get(f"/v1/events/{event.id}/sessions?filter[title][in]={values}", status=400)
    error_of(response, 400, parameter="filter[title][in]")


def test_at_most_100_query_parameters(testapp, event):
    query = "&".join(["filter[name]=FOSSASIA"] * 101)
    error_of(testapp.get(f"/v1/events?{query}", status=400), 400)


# What is stored holds to the declared maximum


def test_html_longer_than_the_maximum_once_sanitized_is_422(testapp, dbsession, event, headers):
    # Each "<" becomes "&lt;": 40,000 characters sent, 100,000 and more once sanitized.
    text = "<" * 40_000
    body = in_event(event, "session", **{"title": "Talk", "long-abstract": text})
    response = testapp.post_json("/v1/sessions", body, headers=headers, status=422)
    error = error_of(response, 422, pointer="/data/attributes/long-abstract")
    assert "once sanitized" in error["detail"]
    assert count(dbsession, Session) == 0


def test_nested_markup_that_grows_past_the_maximum_is_422(testapp, event, headers):
    # Unclosed elements are closed by the sanitizer: the stored text would be longer.
    text = "<b><i>" * 8_000 + "x"
    assert len(text) < 100_000
    body = in_event(event, "session", **{"title": "Talk", "long-abstract": text * 2})
    response = testapp.post_json("/v1/sessions", body, headers=headers, status=422)
    error_of(response, 422, pointer="/data/attributes/long-abstract")


def test_a_short_abstract_is_short(testapp, dbsession, event, headers):
    # The real Open Event samples' longest short abstract has 5,702 characters.
    ok = in_event(event, "session", **{"title": "Talk", "short-abstract": "<p>" + "x" * 9_990})
    testapp.post_json("/v1/sessions", ok, headers=headers, status=201)
    too_long = in_event(event, "session", **{"title": "Talk", "short-abstract": "x" * 10_001})
    response = testapp.post_json("/v1/sessions", too_long, headers=headers, status=422)
    error_of(response, 422, pointer="/data/attributes/short-abstract")
    assert count(dbsession, Session) == 1
