"""The plugin system, through the sample distribution in tests/plugin_dist (installed by
``make test``), found through its real ``openevent.plugins`` entry points."""

import logging

import pytest
from sqlalchemy import create_engine, inspect

from openevent.cli import main
from openevent.config import configure
from openevent.db.session import database_url
from openevent.models import EventPlugin, EventState, Role
from openevent.plugins import PLUGINS_KEY, PluginState, is_enabled_for_event, plugin_of
from openevent.testing import JSONAPI_HEADERS, make_event, make_user

BROKEN = ("sample_broken_import", "sample_broken_include", "sample_incompatible")


@pytest.fixture
def build(app_settings):
    """``build(**settings)``: the registry of an app configured with extra settings."""
    configs = []

    def _build(**extra):
        config = configure({**app_settings, **extra})
        configs.append(config)
        return config.registry

    yield _build
    for config in configs:
        config.registry["dbengine"].dispose()


def _route_names(registry):
    return {item["introspectable"]["name"] for item in registry.introspector.get_category("routes")}


# Discovery and metadata


def test_plugins_are_discovered_with_their_distribution_metadata(registry):
    plugins = registry[PLUGINS_KEY]
    assert {"sample", *BROKEN} <= set(plugins)
    sample = plugins["sample"]
    assert sample.state is PluginState.ACTIVE
    assert sample.version == "1.2.3"
    assert "Sample Author" in sample.author
    assert sample.description == "Private notes for an event's team"
    assert sample.package == "openevent_sample_plugin"
    assert sample.migrations.endswith("openevent_sample_plugin/migrations")


def test_plugin_routes_live_under_v1_and_its_subscriber_runs(registry, testapp):
    routes = {
        item["introspectable"]["name"]: item["introspectable"]["pattern"]
        for item in registry.introspector.get_category("routes")
    }
    assert routes["event.sample-notes"].lstrip("/") == "v1/events/{id}/sample-notes"
    assert testapp.get("/healthz").headers["X-Openevent-Sample"] == "1"


def test_plugin_of_names_the_plugin_owning_code(registry):
    from openevent_sample_plugin import mark_response

    assert plugin_of(registry, mark_response) == "sample"
    assert plugin_of(registry, "openevent_sample_plugin.models") == "sample"
    assert plugin_of(registry, plugin_of) is None


# Failure isolation


def test_failed_plugins_are_listed_with_their_reason(registry):
    plugins = registry[PLUGINS_KEY]
    assert {name: plugins[name].state for name in BROKEN} == dict.fromkeys(
        BROKEN, PluginState.FAILED
    )
    assert "openevent_sample_missing_dependency" in plugins["sample_broken_import"].reason
    assert plugins["sample_broken_include"].reason == (
        "includeme failed: RuntimeError: the sample plugin breaks halfway"
    )
    assert plugins["sample_incompatible"].reason == (
        "requires openevent >=99, this is openevent 0.1.0"
    )


def test_a_failing_includeme_leaves_nothing_half_applied(registry, testapp):
    assert "broken.half" not in _route_names(registry)
    assert "broken.marker" not in registry
    assert "broken.setting" not in registry.settings
    response = testapp.get("/v1/broken-half", status=404)
    assert "X-Openevent-Broken" not in response.headers
    # The plugins loaded after it still work.
    assert response.headers["X-Openevent-Sample"] == "1"


def test_each_failure_is_one_log_line_and_start_up_goes_on(build, caplog):
    with caplog.at_level(logging.INFO, logger="openevent.plugins"):
        registry = build()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == len(BROKEN)
    assert any(
        m.startswith("plugin sample_broken_include skipped: includeme failed") for m in errors
    )
    assert registry[PLUGINS_KEY]["sample"].state is PluginState.ACTIVE


# Allow and deny lists


def test_deny_list_disables_a_plugin(build):
    registry = build(**{"openevent.plugins.disabled": "sample, sample_broken_import"})
    plugins = registry[PLUGINS_KEY]
    assert plugins["sample"].state is PluginState.DISABLED
    assert plugins["sample"].reason == "listed in openevent.plugins.disabled"
    assert plugins["sample_broken_import"].state is PluginState.DISABLED
    assert "event.sample-notes" not in _route_names(registry)


def test_allow_list_loads_only_the_plugins_it_names(build, caplog):
    with caplog.at_level(logging.WARNING, logger="openevent.plugins"):
        registry = build(**{"openevent.plugins": "sample not_installed"})
    plugins = registry[PLUGINS_KEY]
    assert plugins["sample"].state is PluginState.ACTIVE
    for name in BROKEN:
        assert plugins[name].state is PluginState.DISABLED
        assert plugins[name].reason == "not listed in openevent.plugins"
    assert "openevent.plugins lists not_installed, which is not installed" in caplog.messages


@pytest.mark.parametrize("value", ["*", "", "sample *"])
def test_empty_or_star_allow_list_loads_every_plugin(build, value):
    plugins = build(**{"openevent.plugins": value})[PLUGINS_KEY]
    assert plugins["sample"].state is PluginState.ACTIVE
    assert plugins["sample_broken_include"].state is PluginState.FAILED


def test_deny_list_wins_and_comes_from_the_environment(build, monkeypatch):
    monkeypatch.setenv("OPENEVENT_PLUGINS_DISABLED", "sample")
    plugins = build(**{"openevent.plugins": "sample"})[PLUGINS_KEY]
    assert plugins["sample"].state is PluginState.DISABLED


# Migrations


@pytest.fixture
def config_file(ini_file):
    return ini_file


def _tables(url):
    engine = create_engine(database_url(url))
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_db_upgrade_runs_the_plugin_branch(config_file, empty_database_url, capsys):
    path = config_file()
    assert main(["db", "upgrade", path]) == 0
    sample_tables = {"sample_notes", "sample_title_changes"}
    assert {*sample_tables, "event_plugins", "events"} <= _tables(empty_database_url)
    assert main(["db", "check", path]) == 0
    assert "sample 9d4e7b2c1a58" in capsys.readouterr().out
    assert main(["db", "downgrade", path, "sample@base"]) == 0
    tables = _tables(empty_database_url)
    assert not sample_tables & tables
    assert "events" in tables


def test_a_disabled_plugin_gets_no_tables(config_file, empty_database_url):
    path = config_file("openevent.plugins.disabled = sample\n")
    assert main(["db", "upgrade", path]) == 0
    assert "sample_notes" not in _tables(empty_database_url)


# CLI


def test_plugins_list_shows_state_and_reason(config_file, capsys):
    assert main(["plugins", "list", config_file("openevent.plugins.disabled = sample\n")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "STATE", "DETAILS"]
    rows = {line.split()[0]: line.split(maxsplit=3) for line in lines[1:]}
    assert rows["sample"][1:] == ["1.2.3", "disabled", "listed in openevent.plugins.disabled"]
    assert rows["sample_incompatible"][2:] == [
        "failed",
        "requires openevent >=99, this is openevent 0.1.0",
    ]


# Per-event enablement


@pytest.fixture
def team(dbsession):
    owner = make_user(dbsession, password=None)
    event = make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
    return event, owner


def _patch(name, enabled):
    return {"data": [{"type": "event-plugin", "id": name, "attributes": {"enabled": enabled}}]}


def test_plugins_are_enabled_for_an_event_by_default(testapp, registry, team, token_for):
    event, owner = team
    document = testapp.get(f"/v1/events/{event.id}/plugins", headers=token_for(owner)).json
    active = {name for name, p in registry[PLUGINS_KEY].items() if p.state is PluginState.ACTIVE}
    # Every active plugin, by name: the sample one and the installed first-party ones.
    assert [item["id"] for item in document["data"]] == sorted(active)
    assert [item for item in document["data"] if item["id"] == "sample"] == [
        {
            "type": "event-plugin",
            "id": "sample",
            "attributes": {
                "name": "sample",
                "version": "1.2.3",
                "description": "Private notes for an event's team",
                "enabled": True,
                "enabled-by-default": True,
                "settings": {
                    "welcome-note": True,
                    "welcome-text": "Notes are on for this event.",
                    "keep-notes": True,
                },
            },
            "links": {"self": f"/v1/events/{event.id}/plugins/sample"},
        }
    ]


def _sample(response) -> dict:
    """The sample plugin's switch among the installed plugins' in a response."""
    [sample] = [item for item in response.json["data"] if item["id"] == "sample"]
    return sample


def test_organizers_turn_a_plugin_off_and_on(testapp, team, token_for, dbsession):
    event, owner = team
    headers = {**JSONAPI_HEADERS, **token_for(owner)}
    url = f"/v1/events/{event.id}/plugins"
    notes = f"/v1/events/{event.id}/sample-notes"
    testapp.get(notes, headers=headers, status=200)

    response = testapp.patch_json(url, _patch("sample", False), headers=headers, status=200)
    assert _sample(response)["attributes"]["enabled"] is False
    dbsession.expire_all()
    assert is_enabled_for_event(dbsession, "sample", event.id) is False
    assert _sample(testapp.get(url, headers=headers))["attributes"]["enabled"] is False
    # The plugin asks too, and stops acting for this event.
    testapp.get(notes, headers=headers, status=404)

    testapp.patch_json(url, _patch("sample", True), headers=headers, status=200)
    assert _sample(testapp.get(url, headers=headers))["attributes"]["enabled"] is True
    testapp.get(notes, headers=headers, status=200)


@pytest.mark.parametrize("name", ["nope", "sample_broken_include"])
def test_unknown_or_inactive_plugin_is_422_with_a_pointer(testapp, team, token_for, name):
    event, owner = team
    response = testapp.patch_json(
        f"/v1/events/{event.id}/plugins",
        {"data": [_patch("sample", False)["data"][0], _patch(name, True)["data"][0]]},
        headers={**JSONAPI_HEADERS, **token_for(owner)},
        status=422,
    )
    assert response.json["errors"][0]["source"] == {"pointer": "/data/1/id"}


def test_enabled_must_be_a_boolean(testapp, team, token_for, dbsession):
    event, owner = team
    response = testapp.patch_json(
        f"/v1/events/{event.id}/plugins",
        _patch("sample", "no"),
        headers={**JSONAPI_HEADERS, **token_for(owner)},
        status=422,
    )
    assert response.json["errors"][0]["source"] == {"pointer": "/data/0/attributes/enabled"}
    assert dbsession.get(EventPlugin, (event.id, "sample")) is None


def test_only_the_team_sees_an_events_plugins(testapp, team, token_for, dbsession):
    event, _ = team
    outsider = make_user(dbsession, password=None)
    testapp.get(f"/v1/events/{event.id}/plugins", status=401)
    testapp.get(f"/v1/events/{event.id}/plugins", headers=token_for(outsider), status=403)
    coorganizer = make_user(dbsession, password=None)
    from openevent.models import EventRole

    dbsession.add(EventRole(event=event, user=coorganizer, role=Role.COORGANIZER))
    dbsession.flush()
    testapp.get(f"/v1/events/{event.id}/plugins", headers=token_for(coorganizer), status=200)


def test_is_enabled_for_event_reads_once_per_event_and_sees_writes(
    dbsession, team, count_statements
):
    event, _ = team
    other = make_event(dbsession)
    dbsession.add(EventPlugin(event_id=other.id, plugin="sample", enabled=False))
    dbsession.flush()
    with count_statements() as statements:
        for _ in range(5):
            assert is_enabled_for_event(dbsession, "sample", event.id) is True
            assert is_enabled_for_event(dbsession, "sample", other.id) is False
            assert is_enabled_for_event(dbsession, "sample", None) is True
    assert len(statements) == 2
    assert all("event_plugins" in statement for statement in statements)

    dbsession.add(EventPlugin(event_id=event.id, plugin="sample", enabled=False))
    dbsession.flush()
    assert is_enabled_for_event(dbsession, "sample", event.id) is False


# Pages outside /v1 (docs/plugins.md, "Pages for people, outside /v1")


def _tested_example(marker: str, monkeypatch):
    """The docs' example after ``marker``, as a module (Pyramid includes modules)."""
    import sys
    from pathlib import Path
    from types import ModuleType

    docs = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()
    code = docs.split(f"<!-- tested: {marker} -->\n```python\n", 1)[1].split("```", 1)[0]
    module = ModuleType("openevent_docs_site_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, "docs/plugins.md", "exec"), module.__dict__)
    return module


def test_site_routes_live_outside_v1_and_registered_gives_the_public_rule(dbsession, monkeypatch):
    from types import SimpleNamespace

    from pyramid.config import Configurator

    from openevent.models import SessionState
    from openevent.testing import make_session

    example = _tested_example("tests/test_plugins.py", monkeypatch)
    config = Configurator(settings={})
    # As openevent runs a plugin's includeme: under the /v1 prefix.
    with config.route_prefix_context("/v1"):
        config.include(example)
        config.add_route("example.api", "/api-route")
    config.commit()
    patterns = {
        item["introspectable"]["name"]: item["introspectable"]["pattern"]
        for item in config.registry.introspector.get_category("routes")
    }
    assert patterns["example.count"] == "/site/sessions/count"
    assert patterns["example.api"].lstrip("/") == "v1/api-route"

    event = make_event(dbsession, owner=make_user(dbsession, password=None))
    make_session(dbsession, event, state=SessionState.ACCEPTED)
    make_session(dbsession, event, state=SessionState.PENDING)
    response = example.public_session_count(SimpleNamespace(dbsession=dbsession))
    assert response.text == "1 sessions"
