"""Changes to an event's team at the same moment: they run one after the other, and the event
always keeps an owner.

Real commits from several connections, so PostgreSQL only: the tests' usual rolled-back
transaction cannot show one request waiting for another's commit.
"""

import os
import threading
import time
from types import SimpleNamespace

import pytest
import webtest
from alembic import command
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session as DBSession

from openevent import event_locks
from openevent.config import configure
from openevent.db import transaction_scope
from openevent.db.migrations import alembic_config
from openevent.models import Event, EventRole, EventState, Role
from openevent.security import issue_token
from openevent.testing import (
    JSONAPI_HEADERS,
    TEST_DATABASE_ENV,
    jsonapi_document,
    make_event,
    make_user,
    new_database,
)

TRIALS = 15

pytestmark = pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_ENV),
    reason=f"needs PostgreSQL and real commits from several connections: set {TEST_DATABASE_ENV}",
)


@pytest.fixture(scope="module")
def server(app_settings):
    """An app on a database of its own, where requests really commit, and three users with
    their Authorization headers."""
    with new_database(os.environ[TEST_DATABASE_ENV], None) as url:
        config = configure({**app_settings, "sqlalchemy.url": url})
        registry = config.registry
        engine = registry["dbengine"]
        try:
            with engine.begin() as connection:
                migrations = alembic_config(config.get_settings(), connection=connection)
                command.upgrade(migrations, "heads")
            with transaction_scope(registry) as session:
                users = [make_user(session, password=None) for _ in range(3)]
                issuer = SimpleNamespace(registry=registry, dbsession=session)
                headers = [
                    {**JSONAPI_HEADERS, "Authorization": f"Bearer {issue_token(issuer, u)[0]}"}
                    for u in users
                ]
                user_ids = [u.id for u in users]
            yield SimpleNamespace(
                app=config.make_wsgi_app(), engine=engine, users=user_ids, headers=headers
            )
        finally:
            engine.dispose()


def _team(server, *roles: Role) -> tuple[int, list[int]]:
    """A published event whose team is the users, in order, in ``roles``: its id and the
    roles' ids."""
    with DBSession(server.engine) as session:
        event = make_event(session, state=EventState.PUBLISHED)
        members = zip(server.users[: len(roles)], roles, strict=True)
        rows = [EventRole(event=event, user_id=user, role=role) for user, role in members]
        session.add_all(rows)
        session.commit()
        return event.id, [r.id for r in rows]


def _send(server, user: int, method: str, url: str, body: dict | None) -> int:
    """``user`` (an index into ``server.users``) sends a request; its status."""
    response = webtest.TestApp(server.app).request(
        url,
        method=method,
        headers=server.headers[user],
        body=webtest.utils.dumps(body).encode() if body else b"",
        expect_errors=True,
    )
    return response.status_int


def _at_once(server, requests) -> list[int]:
    """Send ``requests`` (``(user, method, url, body)`` each) from as many threads at the same
    moment; their statuses, in the same order."""
    start = threading.Barrier(len(requests))
    statuses: list[int | None] = [None] * len(requests)

    def send(index, *request):
        start.wait()
        statuses[index] = _send(server, *request)

    threads = [threading.Thread(target=send, args=(i, *r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _owners(server, event_id) -> int:
    with server.engine.connect() as connection:
        return connection.scalar(
            select(func.count())
            .select_from(EventRole)
            .where(EventRole.event_id == event_id, EventRole.role == Role.OWNER)
        )


def _as(role: str, role_id: int) -> dict:
    return jsonapi_document("event-role", {"role": role}, id=role_id)


# Two owners, users 0 and 1: what each sends (given the roles' url and the two roles' ids), and
# the two answers expected, in either order. The change that waited is answered as if it had
# come second: an owner removed or demoted by the other no longer takes the owner role (403);
# the last owner does not leave the event without one (409).
CASES = {
    "remove each other": (
        lambda url, ids: [(0, "DELETE", f"{url}/{ids[1]}", None),
                          (1, "DELETE", f"{url}/{ids[0]}", None)],
        [204, 403],
    ),
    "demote each other": (
        lambda url, ids: [(0, "PATCH", f"{url}/{ids[1]}", _as("organizer", ids[1])),
                          (1, "PATCH", f"{url}/{ids[0]}", _as("organizer", ids[0]))],
        [200, 403],
    ),
    "both leave the team": (
        lambda url, ids: [(0, "DELETE", f"{url}/{ids[0]}", None),
                          (1, "DELETE", f"{url}/{ids[1]}", None)],
        [204, 409],
    ),
    "both step down": (
        lambda url, ids: [(0, "PATCH", f"{url}/{ids[0]}", _as("organizer", ids[0])),
                          (1, "PATCH", f"{url}/{ids[1]}", _as("organizer", ids[1]))],
        [200, 409],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_two_owners_at_once_leave_the_event_an_owner(server, case):
    requests, expected = CASES[case]
    outcomes = []
    for _ in range(TRIALS):
        event_id, ids = _team(server, Role.OWNER, Role.OWNER)
        statuses = _at_once(server, requests(f"/v1/events/{event_id}/roles", ids))
        outcomes.append((sorted(statuses), _owners(server, event_id)))
    assert outcomes == [(expected, 1)] * TRIALS


def _while_locked(server, event_id: int, request: tuple, meanwhile) -> int:
    """Send ``request`` while another transaction holds the event's lock; once the request
    waits for it, that transaction runs ``meanwhile(session)`` and commits. The status."""
    status = []
    with DBSession(server.engine) as holder:
        event_locks.lock(holder, event_id)
        sender = threading.Thread(target=lambda: status.append(_send(server, *request)))
        sender.start()
        _wait_for_a_lock_wait(server.engine)  # the request has loaded the event and its team
        meanwhile(holder)
        holder.commit()
        sender.join()
    return status[0]


def _wait_for_a_lock_wait(engine, seconds: float = 10) -> None:
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    deadline = time.monotonic() + seconds
    with engine.connect() as connection:
        while not connection.scalar(waiting):
            assert time.monotonic() < deadline, "no request ever waited for the lock"
            time.sleep(0.01)


def test_a_change_that_waited_is_judged_by_the_team_as_committed(server):
    """An organizer's change that waited while the owner took them off the team is refused,
    as if it had come after: the caller's rights are checked again after the lock."""
    event_id, (_, organizer, coorganizer) = _team(
        server, Role.OWNER, Role.ORGANIZER, Role.COORGANIZER
    )
    url = f"/v1/events/{event_id}/roles/{coorganizer}"
    status = _while_locked(
        server,
        event_id,
        (1, "DELETE", url, None),
        lambda holder: holder.execute(delete(EventRole).where(EventRole.id == organizer)),
    )
    assert status == 403
    with server.engine.connect() as connection:
        assert connection.scalar(select(EventRole.role).where(EventRole.id == coorganizer))


def test_a_change_that_waited_for_an_event_deleted_meanwhile_is_a_404(server):
    event_id, (_, organizer) = _team(server, Role.OWNER, Role.ORGANIZER)
    url = f"/v1/events/{event_id}/roles/{organizer}"
    status = _while_locked(
        server,
        event_id,
        (0, "PATCH", url, _as("coorganizer", organizer)),
        lambda holder: holder.execute(delete(Event).where(Event.id == event_id)),
    )
    assert status == 404
