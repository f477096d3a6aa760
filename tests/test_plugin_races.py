"""Organizers changing an event's plugins at the same moment: the changes run one after the
other, so no setting is lost and a plugin turned on twice at once runs on_enabled once.

Real commits from several connections, so PostgreSQL only: the tests' usual rolled-back
transaction cannot show one request waiting for another's commit.
"""

import os
import threading
from dataclasses import replace
from types import SimpleNamespace

import pytest
import webtest
from alembic import command
from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from openevent.api.fields import Integer
from openevent.config import configure
from openevent.db import transaction_scope
from openevent.db.migrations import alembic_config
from openevent.models import EventPlugin, EventRole, EventState, Role
from openevent.plugins import PLUGINS_KEY, Setting
from openevent.security import issue_token
from openevent.testing import (
    JSONAPI_HEADERS,
    TEST_DATABASE_ENV,
    make_event,
    make_user,
    new_database,
)

THREADS = 6
TRIALS = 5

pytestmark = pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_ENV),
    reason=f"needs PostgreSQL and real commits from several connections: set {TEST_DATABASE_ENV}",
)


@pytest.fixture(scope="module")
def server(app_settings):
    """An app on a database of its own, where requests really commit; its sample plugin
    declares THREADS integer settings and counts its on_enabled calls."""
    with new_database(os.environ[TEST_DATABASE_ENV], None) as url:
        config = configure({**app_settings, "sqlalchemy.url": url})
        registry = config.registry
        engine = registry["dbengine"]
        enabled = []
        plugins = registry[PLUGINS_KEY]
        plugins["sample"] = replace(
            plugins["sample"],
            event_settings={f"setting-{i}": Setting(Integer(), default=0) for i in range(THREADS)},
            on_enabled=lambda switch: enabled.append(switch.event_id),
        )
        try:
            with engine.begin() as connection:
                command.upgrade(
                    alembic_config(config.get_settings(), connection=connection), "heads"
                )
            with transaction_scope(registry) as session:
                owner = make_user(session, password=None)
                issuer = SimpleNamespace(registry=registry, dbsession=session)
                token = issue_token(issuer, owner)[0]
                owner_id = owner.id
            yield SimpleNamespace(
                app=config.make_wsgi_app(),
                engine=engine,
                owner=owner_id,
                headers={**JSONAPI_HEADERS, "Authorization": f"Bearer {token}"},
                enabled=enabled,
            )
        finally:
            engine.dispose()


def _event(server, **sample) -> int:
    """A published event of the owner's; with ``sample``, its sample plugin row so."""
    with DBSession(server.engine) as session:
        event = make_event(session, state=EventState.PUBLISHED)
        session.add(EventRole(event=event, user_id=server.owner, role=Role.OWNER))
        session.flush()
        if sample:
            session.add(EventPlugin(event_id=event.id, plugin="sample", **sample))
        session.commit()
        return event.id


def _at_once(server, url: str, bodies: list[dict]) -> list[int]:
    """PATCH ``url`` with each of ``bodies`` from as many threads at the same moment."""
    start = threading.Barrier(len(bodies))
    statuses: list[int | None] = [None] * len(bodies)

    def send(index, body):
        start.wait()
        response = webtest.TestApp(server.app).patch_json(
            url, body, headers=server.headers, expect_errors=True
        )
        statuses[index] = response.status_int

    threads = [threading.Thread(target=send, args=item) for item in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _body(**attributes) -> dict:
    return {"data": {"type": "event-plugin", "id": "sample", "attributes": attributes}}


def test_settings_changed_at_once_are_all_kept(server):
    for _ in range(TRIALS):
        event_id = _event(server)  # no row yet: the first changes also race to create it
        bodies = [_body(settings={f"setting-{i}": i + 1}) for i in range(THREADS)]
        statuses = _at_once(server, f"/v1/events/{event_id}/plugins/sample", bodies)
        assert statuses == [200] * THREADS
        with server.engine.connect() as connection:
            stored = connection.scalar(
                select(EventPlugin.settings).where(EventPlugin.event_id == event_id)
            )
        assert stored == {f"setting-{i}": i + 1 for i in range(THREADS)}


def test_a_plugin_turned_on_several_times_at_once_runs_on_enabled_once(server):
    for _ in range(TRIALS):
        event_id = _event(server, enabled=False, settings={})
        statuses = _at_once(
            server, f"/v1/events/{event_id}/plugins/sample", [_body(enabled=True)] * THREADS
        )
        assert statuses == [200] * THREADS
        assert server.enabled.count(event_id) == 1
