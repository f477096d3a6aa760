"""An app whose database is not at the code's revisions says so, instead of failing with 500s."""

import logging

import pytest
import webtest
from alembic import command
from sqlalchemy import create_engine

from openevent import main
from openevent.config import configure
from openevent.db.migrations import alembic_config, core_heads, expected_heads, script_directory
from openevent.db.session import database_url
from openevent.schema_guard import STATE_KEY, SchemaState, StaleSchemaError


def _migrate(settings, url, target, direction=command.upgrade):
    engine = create_engine(database_url(url))
    try:
        with engine.begin() as connection:
            direction(
                alembic_config({**settings, "sqlalchemy.url": url}, connection=connection), target
            )
    finally:
        engine.dispose()


@pytest.fixture
def one_behind(app_settings, empty_database_url):
    """A database with every migration but the core's last."""
    head = core_heads(app_settings)[0]
    previous = script_directory(app_settings).get_revision(head).down_revision
    _migrate(app_settings, empty_database_url, "heads")
    _migrate(app_settings, empty_database_url, previous, command.downgrade)
    return {**app_settings, "sqlalchemy.url": empty_database_url}, head, previous


@pytest.fixture
def stale_app(one_behind, caplog):
    settings, head, previous = one_behind
    with caplog.at_level(logging.WARNING, logger="openevent.schema_guard"):
        config = configure({**settings, "openevent.config_file": "site.ini"})
    yield config, webtest.TestApp(config.make_wsgi_app()), head, previous
    config.registry["dbengine"].dispose()


def test_api_requests_answer_503_naming_the_revisions_and_the_command(stale_app, app_settings):
    _, app, head, previous = stale_app
    response = app.get("/v1/events", status=503)
    assert response.content_type == "application/vnd.api+json"
    [error] = response.json["errors"]
    assert error["status"] == "503"
    assert error["code"] == "schema-out-of-date"
    assert previous in error["detail"] and head in error["detail"]
    assert "run `openevent db upgrade site.ini`" in error["detail"]
    assert error["meta"]["expected-revision"] == list(expected_heads(app_settings))
    assert previous in error["meta"]["current-revision"]
    assert head not in error["meta"]["current-revision"]


def test_the_log_says_it_once_at_start_up(stale_app, caplog):
    _, app, head, previous = stale_app
    app.get("/v1/events", status=503)
    app.get("/v1/events", status=503)
    records = caplog.get_records("setup") + caplog.get_records("call")
    messages = [r.getMessage() for r in records if r.name == "openevent.schema_guard"]
    assert len(messages) == 1
    assert "503" in messages[0] and previous in messages[0] and head in messages[0]


def test_healthz_reports_the_same(stale_app):
    _, app, head, _previous = stale_app
    body = app.get("/healthz", status=200).json
    assert body["status"] == "schema-out-of-date"
    assert body["database"]["at_head"] is False
    assert body["database"]["command"] == "openevent db upgrade site.ini"
    assert head in body["database"]["detail"]


def test_routes_outside_the_api_are_served(stale_app):
    _, app, _, _ = stale_app
    app.get("/healthz", status=200)


def test_the_app_serves_again_once_migrated(stale_app, one_behind):
    settings, _, _ = one_behind
    _, app, _, _ = stale_app
    app.get("/v1/events", status=503)
    _migrate(settings, settings["sqlalchemy.url"], "heads")
    assert app.get("/v1/events", status=200).json["data"] == []


def test_a_setting_makes_it_refuse_to_start(one_behind):
    settings, head, previous = one_behind
    with pytest.raises(StaleSchemaError, match=f"at .*{previous}.*expects .*{head}"):
        configure({**settings, "openevent.db.require_current_schema": "true"})


def test_pserve_exits_with_one_line(one_behind):
    settings, _head, _ = one_behind
    with pytest.raises(SystemExit) as excinfo:
        main(
            {"__file__": "/srv/site.ini"},
            **{**settings, "openevent.db.require_current_schema": "true"},
        )
    message = str(excinfo.value.code)
    assert message.startswith("openevent: refusing to start: the database schema is at ")
    assert "\n" not in message
    assert message.endswith("run `openevent db upgrade /srv/site.ini`")


def test_a_schema_changed_under_a_running_app_answers_503_not_500(app_settings, empty_database_url):
    _migrate(app_settings, empty_database_url, "heads")
    config = configure({**app_settings, "sqlalchemy.url": empty_database_url})
    try:
        app = webtest.TestApp(config.make_wsgi_app())
        app.get("/v1/events", status=200)
        # Within the re-check interval the app trusts its last check; the query fails instead.
        _migrate(app_settings, empty_database_url, "base", command.downgrade)
        error = app.get("/v1/events", status=503).json["errors"][0]
        assert error["code"] == "schema-out-of-date"
        assert "never migrated" in error["detail"]
    finally:
        config.registry["dbengine"].dispose()


class _Clock:
    now = 0.0

    def __call__(self):
        return self.now


def test_a_current_schema_is_rechecked_at_most_every_few_seconds(registry):
    clock = _Clock()
    state = SchemaState(
        registry["dbengine"], registry["expected_heads"], "cmd", recheck_seconds=5, clock=clock
    )
    assert state.status().at_head
    clock.now = 4.9
    assert state.status().at_head
    assert state.queries == 1
    clock.now = 5.0
    state.status()
    assert state.queries == 2
    state.invalidate()
    state.status()
    assert state.queries == 3


def test_a_stale_schema_is_rechecked_on_every_request(registry):
    state = SchemaState(registry["dbengine"], ("not-a-revision",), "cmd", clock=_Clock())
    assert not state.status().at_head
    assert not state.status().at_head
    assert state.queries == 2


def test_the_test_app_is_at_head(registry):
    assert registry[STATE_KEY].status().at_head
