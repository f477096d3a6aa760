"""Per-event plugin settings: declared by plugins with API fields, read and changed by the
event's organizers at /v1/events/{id}/plugins, read by plugins with settings_for_event().

The sample plugin (tests/plugin_dist) declares three settings in its settings.py."""

import enum
import sys
import types
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import EntryPoint

import pytest

from openevent.api.fields import Boolean, Choice, DateTime, Integer, Money, String, Url
from openevent.models import EventPlugin, EventRole, Role
from openevent.plugins import PluginState, Setting, discover, settings_for_event
from openevent.testing import JSONAPI_HEADERS, make_user

DEFAULTS = {
    "welcome-note": True,
    "welcome-text": "Notes are on for this event.",
    "keep-notes": True,
}


def _settings(settings, **attributes):
    return {
        "data": {
            "type": "event-plugin",
            "id": "sample",
            "attributes": {"settings": settings, **attributes},
        }
    }


def _url(event, name="sample"):
    return f"/v1/events/{event.id}/plugins/{name}"


# Reading


def test_each_plugin_shows_every_setting_it_declares_with_its_default(testapp, event, headers):
    listed = testapp.get(f"/v1/events/{event.id}/plugins", headers=headers).json
    by_name = {item["id"]: item for item in listed["data"]}
    assert by_name["sample"]["attributes"]["settings"] == DEFAULTS
    assert by_name["sample"]["attributes"]["enabled-by-default"] is True
    assert by_name["versions"]["attributes"]["settings"] == {}  # it declares none
    assert by_name["sample"]["links"] == {"self": _url(event)}
    one = testapp.get(_url(event), headers=headers).json
    assert one["data"] == by_name["sample"]


def test_plugins_read_their_settings_with_one_call(dbsession, event):
    assert settings_for_event(dbsession, "sample", event.id) == DEFAULTS
    assert settings_for_event(dbsession, "sample", None) == DEFAULTS  # no event: the defaults
    with pytest.raises(KeyError, match="no plugin named 'nope'"):
        settings_for_event(dbsession, "nope", event.id)


def test_listing_every_plugin_reads_the_events_choices_once(
    testapp, event, headers, count_statements
):
    with count_statements() as statements:
        testapp.get(f"/v1/events/{event.id}/plugins", headers=headers, status=200)
    assert sum("event_plugins" in statement for statement in statements) == 1


def test_settings_and_enablement_share_one_query_per_event(dbsession, event, count_statements):
    from openevent.plugins import is_enabled_for_event

    with count_statements() as statements:
        for _ in range(3):
            settings_for_event(dbsession, "sample", event.id)
            is_enabled_for_event(dbsession, "sample", event.id)
            is_enabled_for_event(dbsession, "versions", event.id)
    assert len(statements) == 1


# Changing


def test_organizers_change_some_settings_and_the_others_keep_theirs(
    testapp, dbsession, event, headers
):
    response = testapp.patch_json(
        _url(event), _settings({"welcome-text": "Hello, team"}), headers=headers, status=200
    )
    assert response.json["data"]["attributes"]["settings"] == {
        **DEFAULTS,
        "welcome-text": "Hello, team",
    }
    testapp.patch_json(_url(event), _settings({"keep-notes": False}), headers=headers)
    dbsession.expire_all()
    assert settings_for_event(dbsession, "sample", event.id) == {
        **DEFAULTS,
        "welcome-text": "Hello, team",
        "keep-notes": False,
    }
    # Changing settings is not a choice about whether the plugin acts.
    assert dbsession.get(EventPlugin, (event.id, "sample")).enabled is None


def test_the_collection_takes_settings_too(testapp, dbsession, event, headers):
    body = {"data": [_settings({"welcome-note": False})["data"]]}
    response = testapp.patch_json(f"/v1/events/{event.id}/plugins", body, headers=headers)
    [sample] = [item for item in response.json["data"] if item["id"] == "sample"]
    assert sample["attributes"]["settings"]["welcome-note"] is False
    dbsession.expire_all()
    assert settings_for_event(dbsession, "sample", event.id)["welcome-note"] is False


def test_a_value_equal_to_the_default_is_not_stored(testapp, dbsession, event, headers):
    testapp.patch_json(_url(event), _settings({"keep-notes": False}), headers=headers)
    testapp.patch_json(
        _url(event), _settings({"keep-notes": True, "welcome-note": True}), headers=headers
    )
    dbsession.expire_all()
    # So the setting follows the plugin's default if a later version changes it.
    assert dbsession.get(EventPlugin, (event.id, "sample")).settings == {}


def test_a_stored_value_the_plugin_no_longer_accepts_reads_as_the_default(dbsession, event):
    dbsession.add(
        EventPlugin(event_id=event.id, plugin="sample", settings={"welcome-text": "", "gone": 1})
    )
    dbsession.flush()
    assert settings_for_event(dbsession, "sample", event.id) == DEFAULTS


# Types, through the API's own fields, in the event's timezone


class Size(enum.StrEnum):
    SMALL = "small"
    LARGE = "large"


TYPED = {
    "opens-at": Setting(DateTime(), default=None, description="When the desk opens"),
    "size": Setting(Choice(Size), default=Size.SMALL),
    "copies": Setting(Integer(minimum=1), default=1),
    "fee": Setting(Money(), default=Decimal("0.00")),
    "link": Setting(Url(), default=None),
}


def test_values_are_parsed_rendered_and_returned_by_their_fields(
    testapp, dbsession, event, headers, plugin_info
):
    # The event is in Asia/Singapore, UTC+8.
    plugin_info("sample", event_settings=TYPED)
    values = {"opens-at": "2030-03-17T09:00:00", "size": "large", "copies": 3, "fee": "12.5"}
    response = testapp.patch_json(_url(event), _settings(values), headers=headers, status=200)
    assert response.json["data"]["attributes"]["settings"] == {
        "opens-at": "2030-03-17T09:00:00+08:00",  # a time without offset is the event's
        "size": "large",
        "copies": 3,
        "fee": "12.50",
        "link": None,
    }
    dbsession.expire_all()
    assert settings_for_event(dbsession, "sample", event.id) == {
        "opens-at": datetime(2030, 3, 17, 1, 0, tzinfo=UTC),
        "size": Size.LARGE,
        "copies": 3,
        "fee": Decimal("12.50"),
        "link": None,
    }
    # Stored as the API renders values, in UTC: the instant survives a change of timezone.
    stored = dbsession.get(EventPlugin, (event.id, "sample")).settings
    assert stored["opens-at"] == "2030-03-17T01:00:00+00:00"


def test_null_is_a_value_only_of_settings_without_a_default(
    testapp, dbsession, event, headers, plugin_info
):
    plugin_info("sample", event_settings=TYPED)
    testapp.patch_json(
        _url(event), _settings({"link": "https://example.org/desk"}), headers=headers
    )
    testapp.patch_json(_url(event), _settings({"link": None}), headers=headers, status=200)
    response = testapp.patch_json(
        _url(event), _settings({"copies": None}), headers=headers, status=422
    )
    assert response.json["errors"][0]["source"] == {"pointer": "/data/attributes/settings/copies"}
    assert response.json["errors"][0]["detail"] == "copies must not be null"


# Invalid documents


def test_every_invalid_value_is_422_with_its_pointer_and_nothing_is_written(
    testapp, dbsession, event, headers
):
    body = _settings(
        {
            "welcome-note": "yes",
            "welcome-text": "",
            "keep-notes": None,
            "nope": 1,
            "a/b~c": 2,
        },
        enabled=False,
        version="9",
        colour="red",
    )
    response = testapp.patch_json(_url(event), body, headers=headers, status=422)
    errors = {e["source"]["pointer"]: e["detail"] for e in response.json["errors"]}
    settings = "/data/attributes/settings"
    assert errors == {
        f"{settings}/welcome-note": "welcome-note must be true or false",
        f"{settings}/welcome-text": "welcome-text must not be empty",
        f"{settings}/keep-notes": "keep-notes must not be null",
        f"{settings}/nope": "sample has no setting 'nope' (its settings: welcome-note,"
        " welcome-text, keep-notes)",
        f"{settings}/a~1b~0c": "sample has no setting 'a/b~c' (its settings: welcome-note,"
        " welcome-text, keep-notes)",
        "/data/attributes/version": "version is read-only",
        "/data/attributes/colour": "event-plugin has no attribute 'colour'",
    }
    assert {e["status"] for e in response.json["errors"]} == {"422"}
    assert dbsession.get(EventPlugin, (event.id, "sample")) is None  # enabled=False neither


@pytest.mark.parametrize(
    "settings, pointer",
    [
        ([], "/data/attributes/settings"),
        ("welcome-note=false", "/data/attributes/settings"),
    ],
)
def test_settings_must_be_an_object(testapp, event, headers, settings, pointer):
    response = testapp.patch_json(_url(event), _settings(settings), headers=headers, status=422)
    assert response.json["errors"][0]["source"] == {"pointer": pointer}


def test_the_collection_reports_each_items_errors_at_its_index(testapp, dbsession, event, headers):
    body = {
        "data": [
            _settings({"welcome-note": False})["data"],
            {"type": "event-plugin", "id": "nope", "attributes": {"enabled": False}},
            _settings({"welcome-note": 3})["data"],
        ]
    }
    response = testapp.patch_json(
        f"/v1/events/{event.id}/plugins", body, headers=headers, status=422
    )
    assert [e["source"]["pointer"] for e in response.json["errors"]] == [
        "/data/1/id",
        "/data/2/attributes/settings/welcome-note",
    ]
    assert dbsession.get(EventPlugin, (event.id, "sample")) is None


@pytest.mark.parametrize(
    "body, status, pointer",
    [
        (b"{not json", 400, None),
        (b'{"data": []}', 400, "/data"),
        (b'{"data": {"type": "event-plugin", "id": "sample", "attributes": []}}', 400, None),
        (b'{"data": {"type": "session", "id": "sample"}}', 409, "/data/type"),
        (b'{"data": {"type": "event-plugin", "id": "versions"}}', 409, "/data/id"),
        (b'{"data": {"type": "event-plugin"}}', 400, "/data/id"),
    ],
)
def test_malformed_documents_are_4xx_like_the_rest_of_the_api(
    testapp, event, headers, body, status, pointer
):
    response = testapp.patch(_url(event), body, headers=headers, status=status)
    [error] = response.json["errors"]
    assert error["status"] == str(status)
    if pointer:
        assert error["source"] == {"pointer": pointer}


def test_a_body_that_is_not_json_api_is_415(testapp, event, owner, token_for):
    testapp.patch(
        _url(event),
        b'{"data": {"type": "event-plugin", "id": "sample"}}',
        headers={**token_for(owner), "Content-Type": "application/json"},
        status=415,
    )


@pytest.mark.parametrize("name", ["nope", "sample_broken_include"])
def test_an_unknown_or_inactive_plugin_is_404(testapp, event, headers, name):
    testapp.get(_url(event, name), headers=headers, status=404)
    testapp.patch_json(_url(event, name), _settings({}), headers=headers, status=404)


# Who may


def test_the_team_reads_and_organizers_change_settings(testapp, dbsession, event, token_for):
    outsider = make_user(dbsession, password=None)
    coorganizer = make_user(dbsession, password=None)
    organizer = make_user(dbsession, password=None)
    dbsession.add(EventRole(event=event, user=coorganizer, role=Role.COORGANIZER))
    dbsession.add(EventRole(event=event, user=organizer, role=Role.ORGANIZER))
    dbsession.flush()
    body = _settings({"keep-notes": False})

    testapp.get(_url(event), status=401)
    testapp.get(_url(event), headers=token_for(outsider), status=403)
    testapp.get(_url(event), headers=token_for(coorganizer), status=200)
    for user, status in ((None, 401), (outsider, 403), (coorganizer, 403), (organizer, 200)):
        headers = {**JSONAPI_HEADERS, **(token_for(user) if user else {})}
        testapp.patch_json(_url(event), body, headers=headers, status=status)
        testapp.patch_json(
            f"/v1/events/{event.id}/plugins",
            {"data": [body["data"]]},
            headers=headers,
            status=status,
        )


# The OpenAPI document


def test_openapi_describes_each_plugins_settings(testapp):
    paths = testapp.get("/v1/openapi.json").json["paths"]
    one = paths["/v1/events/{id}/plugins/{name}"]
    assert set(one) == {"get", "patch"}
    schema = one["get"]["responses"]["200"]["content"]["application/vnd.api+json"]["schema"]
    [sample] = [
        s
        for s in schema["properties"]["data"]["oneOf"]
        if s["properties"]["id"] == {"const": "sample"}
    ]
    settings = sample["properties"]["attributes"]["properties"]["settings"]
    assert settings["properties"]["welcome-text"] == {
        "type": "string",
        "maxLength": 200,
        "default": "Notes are on for this event.",
        "description": "The text of that note",
    }
    assert settings["properties"]["welcome-note"]["type"] == "boolean"
    assert settings["additionalProperties"] is False
    assert sample["properties"]["attributes"]["properties"]["enabled-by-default"]["readOnly"]
    patch = one["patch"]
    assert patch["requestBody"]["content"]["application/vnd.api+json"]["schema"] == schema
    assert {"400", "401", "403", "404", "409", "415", "422"} <= set(patch["responses"])
    collection = paths["/v1/events/{id}/plugins"]["patch"]["requestBody"]["content"]
    items = collection["application/vnd.api+json"]["schema"]["properties"]["data"]["items"]
    assert sample in items["oneOf"]


def test_setting_schemas_say_whether_null_is_a_value():
    assert TYPED["size"].schema() == {
        "type": "string",
        "enum": ["small", "large"],
        "default": "small",
    }
    assert TYPED["link"].schema()["type"] == ["string", "null"]
    assert Setting(Choice(Size)).schema()["enum"] == ["small", "large", None]
    assert TYPED["opens-at"].schema()["description"] == "When the desk opens"


# Declarations, checked when the plugin loads


def _discover_module(monkeypatch, **attributes):
    """discover() with one installed plugin, ``probe``: a module with ``attributes``."""
    module = types.ModuleType("openevent_probe_plugin")
    module.includeme = lambda config: None
    for name, value in attributes.items():
        setattr(module, name, value)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    entry_point = EntryPoint("probe", module.__name__, "openevent.plugins")
    monkeypatch.setattr("openevent.plugins.entry_points", lambda group: [entry_point])
    [info] = discover({})
    return info


def test_a_plugin_declaring_valid_settings_loads_with_them(monkeypatch):
    info = _discover_module(monkeypatch, event_settings=TYPED, enabled_by_default=False)
    assert info.state is PluginState.ACTIVE
    assert dict(info.event_settings) == TYPED
    assert info.enabled_by_default is False
    assert info.on_enabled is None and info.on_disabled is None


@pytest.mark.parametrize(
    "attributes, reason",
    [
        (
            {"event_settings": {"Badge_Size": Setting(Integer(), default=1)}},
            "event_settings: 'Badge_Size' is not a setting name (lower-case words joined by"
            " hyphens, such as 'badge-size')",
        ),
        (
            {"event_settings": {"size": Integer()}},
            "event_settings['size'] must be an openevent.plugins.Setting, not Integer",
        ),
        (
            {"event_settings": [("size", Setting(Integer(), default=1))]},
            "event_settings must be a dict of setting names to Setting objects",
        ),
        (
            {"event_settings": {"code": Setting(String(max_length=3), default="toolong")}},
            "event_settings['code']: the default 'toolong' is not a value of its field"
            " (must be at most 3 characters)",
        ),
        (
            {"event_settings": {"on": Setting(Boolean(), default="yes")}},
            "event_settings['on']: the default 'yes' is not a value of its field"
            " (must be true or false)",
        ),
        (
            {"event_settings": {"size": Setting(Choice(Size), default="small")}},
            "event_settings['size']: the default 'small' is not a value of its field",
        ),
        (
            {"event_settings": {"link": Setting(Url(), default=" https://example.org ")}},
            "event_settings['link']: give the default as the field reads it:"
            " 'https://example.org', not ' https://example.org '",
        ),
        ({"enabled_by_default": "no"}, "enabled_by_default must be True or False, not 'no'"),
        ({"on_enabled": "bump"}, "on_enabled must be a function taking a PluginSwitch"),
    ],
)
def test_a_plugin_with_a_bad_declaration_fails_to_load_saying_why(monkeypatch, attributes, reason):
    info = _discover_module(monkeypatch, **attributes)
    assert info.state is PluginState.FAILED
    assert info.reason.startswith(reason)
