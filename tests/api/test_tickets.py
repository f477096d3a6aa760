import os
import random
import threading
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import select

from openevent.api import tickets as tickets_api
from openevent.config import configure
from openevent.db import transaction_scope
from openevent.db.migrations import alembic_config
from openevent.models import EventState, Ticket
from openevent.testing import (
    JSONAPI_HEADERS,
    TEST_DATABASE_ENV,
    jsonapi_document,
    make_event,
    make_ticket,
    make_user,
)


@pytest.fixture
def tickets(dbsession, event):
    return [make_ticket(dbsession, event, name=name) for name in "ABCDE"]


def names(testapp, event, headers=None, query="") -> list[str]:
    response = testapp.get(f"/v1/events/{event.id}/tickets?page[size]=100{query}", headers=headers)
    return [t["attributes"]["name"] for t in response.json["data"]]


def positions(dbsession, event) -> list[tuple[str, int]]:
    dbsession.expire_all()
    rows = dbsession.scalars(
        select(Ticket)
        .where(Ticket.event_id == event.id, Ticket.deleted_at.is_(None))
        .order_by(Ticket.position)
    )
    return [(t.name, t.position) for t in rows]


def create(testapp, event, headers, status=201, **attributes):
    body = jsonapi_document("ticket", {"name": "F", **attributes}, event=("event", event.id))
    return testapp.post_json("/v1/tickets", body, headers=headers, status=status)


def patch(testapp, ticket, headers, status=200, **attributes):
    attributes = {k.replace("_", "-"): v for k, v in attributes.items()}
    body = jsonapi_document("ticket", attributes, id=ticket.id)
    return testapp.patch_json(f"/v1/tickets/{ticket.id}", body, headers=headers, status=status)


# Creating


def test_create_renders_every_attribute(testapp, event, headers):
    response = create(
        testapp,
        event,
        headers,
        price="19.99",
        currency="EUR",
        quantity=100,
        **{"sales-starts-at": "2030-01-01T09:00:00", "is-hidden": True},
    )
    data = response.json["data"]
    assert response.headers["Location"].endswith(f"/v1/tickets/{data['id']}")
    attributes = data["attributes"]
    assert attributes["price"] == "19.99"
    assert attributes["currency"] == "EUR"
    assert attributes["quantity"] == 100
    assert attributes["position"] == 1
    assert attributes["is-hidden"] is True
    assert attributes["sales-starts-at"] == "2030-01-01T09:00:00+08:00"  # event in Singapore
    assert attributes["sales-ends-at"] is None
    assert attributes["deleted-at"] is None
    assert data["relationships"]["event"]["data"] == {"type": "event", "id": str(event.id)}


def test_create_appends(testapp, dbsession, event, tickets, headers):
    assert create(testapp, event, headers).json["data"]["attributes"]["position"] == 6
    assert positions(dbsession, event)[-1] == ("F", 6)


def test_create_inserts_at_a_position(testapp, dbsession, event, tickets, headers):
    assert create(testapp, event, headers, position=2).json["data"]["attributes"]["position"] == 2
    assert positions(dbsession, event) == [(n, i) for i, n in enumerate("AFBCDE", 1)]


@pytest.mark.parametrize("position", [0, 7, -3, None, "2", 1.5, True])
def test_create_at_an_invalid_position_is_422(
    testapp, dbsession, event, tickets, headers, position
):
    response = create(testapp, event, headers, status=422, position=position)
    assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/position"
    assert positions(dbsession, event) == [(n, i) for i, n in enumerate("ABCDE", 1)]


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"price": "-1"}, "price"),
        ({"price": "1.999"}, "price"),
        ({"price": 1.5}, "price"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": "ten"}, "quantity"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "E1R"}, "currency"),
        ({"currency": None}, "currency"),
        (
            {"sales-starts-at": "2030-01-02T00:00:00", "sales-ends-at": "2030-01-01T00:00:00"},
            "sales-ends-at",
        ),
        (
            {"sales-starts-at": "2030-01-02T00:00:00", "sales-ends-at": "2030-01-02T00:00:00"},
            "sales-ends-at",
        ),
        ({"sales-ends-at": "soon"}, "sales-ends-at"),
        ({"is-hidden": "yes"}, "is-hidden"),
        ({"name": ""}, "name"),
        ({"created-at": "2030-01-01T00:00:00Z"}, "created-at"),
        ({"deleted-at": "2030-01-01T00:00:00Z"}, "deleted-at"),
    ],
)
def test_invalid_tickets_are_422_and_write_nothing(
    testapp, dbsession, event, tickets, headers, attributes, pointer
):
    response = create(testapp, event, headers, status=422, position=1, **attributes)
    assert [e["source"]["pointer"] for e in response.json["errors"]] == [
        f"/data/attributes/{pointer}"
    ]
    assert positions(dbsession, event) == [(n, i) for i, n in enumerate("ABCDE", 1)]


def test_create_without_a_name_is_422(testapp, event, headers):
    body = jsonapi_document("ticket", {}, event=("event", event.id))
    response = testapp.post_json("/v1/tickets", body, headers=headers, status=422)
    assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/name"


def test_patch_can_narrow_the_sales_window_only_consistently(testapp, event, headers):
    data = create(testapp, event, headers, **{"sales-ends-at": "2030-01-02T00:00:00"}).json
    ticket = Ticket(id=int(data["data"]["id"]))
    response = patch(testapp, ticket, headers, status=422, sales_starts_at="2030-01-03T00:00:00")
    assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/sales-ends-at"
    patch(testapp, ticket, headers, sales_starts_at="2030-01-01T00:00:00")


# Moving


@pytest.mark.parametrize(
    ("index", "position", "expected"),
    [(1, 4, "ACDBE"), (3, 2, "ADBCE"), (2, 1, "CABDE"), (2, 5, "ABDEC"), (0, 5, "BCDEA")],
)
def test_patch_position_moves_and_shifts(
    testapp, dbsession, event, tickets, headers, index, position, expected
):
    data = patch(testapp, tickets[index], headers, position=position).json["data"]
    assert data["attributes"]["position"] == position
    assert names(testapp, event) == list(expected)
    assert positions(dbsession, event) == [(n, i) for i, n in enumerate(expected, 1)]


def test_patch_position_with_other_attributes(testapp, dbsession, event, tickets, headers):
    patch(testapp, tickets[4], headers, position=1, name="E2", price="5.00")
    assert names(testapp, event) == ["E2", "A", "B", "C", "D"]


@pytest.mark.parametrize("position", [0, 6, None, "1"])
def test_patch_to_an_invalid_position_is_422(testapp, dbsession, event, tickets, headers, position):
    response = patch(testapp, tickets[0], headers, status=422, position=position)
    assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/position"
    assert positions(dbsession, event) == [(n, i) for i, n in enumerate("ABCDE", 1)]


# Trash, restore, delete


def test_trash_closes_the_gap_and_restore_appends(testapp, dbsession, event, tickets, headers):
    testapp.delete(f"/v1/tickets/{tickets[1].id}", headers=headers, status=204)
    assert positions(dbsession, event) == [("A", 1), ("C", 2), ("D", 3), ("E", 4)]
    create(testapp, event, headers, position=1)  # B's old position now belongs to another
    data = patch(testapp, tickets[1], headers, deleted_at=None).json["data"]
    assert data["attributes"]["position"] == 6
    assert data["attributes"]["deleted-at"] is None
    assert names(testapp, event) == list("FACDEB")


def test_restore_at_a_position(testapp, dbsession, event, tickets, headers):
    testapp.delete(f"/v1/tickets/{tickets[4].id}", headers=headers, status=204)
    patch(testapp, tickets[4], headers, deleted_at=None, position=1)
    assert positions(dbsession, event) == [(n, i) for i, n in enumerate("EABCD", 1)]


def test_a_trashed_ticket_cannot_be_moved(testapp, dbsession, event, tickets, headers):
    testapp.delete(f"/v1/tickets/{tickets[0].id}", headers=headers, status=204)
    response = patch(testapp, tickets[0], headers, status=422, position=1)
    assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/position"


def test_trashing_twice_changes_nothing(testapp, dbsession, event, tickets, headers):
    testapp.delete(f"/v1/tickets/{tickets[0].id}", headers=headers, status=204)
    testapp.delete(f"/v1/tickets/{tickets[0].id}", headers=headers, status=204)
    assert positions(dbsession, event) == [(n, i) for i, n in enumerate("BCDE", 1)]


@pytest.mark.parametrize("trash_first", [False, True])
def test_permanent_delete_closes_the_gap(testapp, dbsession, event, tickets, headers, trash_first):
    url = f"/v1/tickets/{tickets[2].id}"
    if trash_first:
        testapp.delete(url, headers=headers, status=204)
    testapp.delete(f"{url}?permanent=true", headers=headers, status=204)
    assert positions(dbsession, event) == [(n, i) for i, n in enumerate("ABDE", 1)]
    testapp.get(url, headers=headers, status=404)


def test_team_sees_the_trash(testapp, event, tickets, headers):
    testapp.delete(f"/v1/tickets/{tickets[0].id}", headers=headers, status=204)
    assert names(testapp, event, headers, "&filter[trashed]=only") == ["A"]
    testapp.get(f"/v1/tickets/{tickets[0].id}", headers=headers, status=200)
    testapp.get(f"/v1/tickets/{tickets[0].id}", status=404)
    testapp.get(f"/v1/events/{event.id}/tickets?filter[trashed]=only", status=404)


# Listing


def test_listed_in_position_order_unless_sorted(testapp, dbsession, event, headers):
    for name, position in [("C", 1), ("A", 1), ("B", 2)]:
        create(testapp, event, headers, name=name, position=position)
    assert names(testapp, event) == ["A", "B", "C"]
    assert names(testapp, event, query="&sort=-name") == ["C", "B", "A"]
    assert names(testapp, event, query="&sort=-position") == ["C", "B", "A"]
    assert names(testapp, event, query="&filter[position][ge]=2") == ["B", "C"]


def test_list_runs_the_same_statements_for_3_and_50_tickets(
    testapp, dbsession, owner, login, count_statements
):
    headers = login(owner)
    counts = []
    for size in (3, 50):
        event = make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
        for _ in range(size):
            make_ticket(dbsession, event)
        for who in (headers, None):
            url = f"/v1/events/{event.id}/tickets?page[size]=100&include=event"
            with count_statements() as statements:
                data = testapp.get(url, headers=who).json["data"]
            assert len(data) == size
            counts.append(len(statements))
    assert counts[:2] == counts[2:]


# Sales window


def at(monkeypatch, instant: str):
    moment = datetime.fromisoformat(instant)
    monkeypatch.setattr(tickets_api, "utcnow", lambda: moment)


@pytest.mark.parametrize(
    ("timezone", "starts", "ends"),
    [
        # Clocks go from 02:00 PST to 03:00 PDT: the window is one hour long, 09:30Z-10:30Z.
        ("America/Los_Angeles", "2030-03-10T01:30:00", "2030-03-10T03:30:00"),
        # No DST in India: the same instants in local time, +05:30.
        ("Asia/Kolkata", "2030-03-10T15:00:00", "2030-03-10T16:00:00"),
    ],
)
@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        ("2030-03-10T09:29:59+00:00", False),
        ("2030-03-10T09:30:00+00:00", True),  # the start is included
        ("2030-03-10T10:15:00+00:00", True),
        ("2030-03-10T10:30:00+00:00", False),  # the end is not
        ("2030-03-10T11:15:00+00:00", False),  # would be open if 03:30 were read as PST
    ],
)
def test_sales_open_around_a_dst_change(
    testapp, dbsession, owner, headers, monkeypatch, timezone, starts, ends, now, is_open
):
    event = make_event(dbsession, owner=owner, timezone=timezone, state=EventState.PUBLISHED)
    create(
        testapp, event, headers, name="window", **{"sales-starts-at": starts, "sales-ends-at": ends}
    )
    make_ticket(dbsession, event, name="always")
    ten = datetime(2030, 3, 10, 10, tzinfo=UTC)
    make_ticket(dbsession, event, name="from", sales_starts_at=ten)
    make_ticket(dbsession, event, name="until", sales_ends_at=ten)
    at(monkeypatch, now)
    open_now = set(names(testapp, event, query="&filter[sales-open]=true"))
    closed_now = set(names(testapp, event, query="&filter[sales-open]=false"))
    assert ("window" in open_now) is is_open
    assert open_now.isdisjoint(closed_now)
    assert open_now | closed_now == {"window", "always", "from", "until"}
    assert "always" in open_now
    instant = datetime.fromisoformat(now)
    assert ("from" in open_now) is (instant >= ten)
    assert ("until" in open_now) is (instant < ten)


def test_sales_window_is_rendered_in_the_event_timezone(testapp, dbsession, owner, headers):
    event = make_event(dbsession, owner=owner, timezone="America/Los_Angeles")
    attributes = create(
        testapp,
        event,
        headers,
        **{"sales-starts-at": "2030-03-10T01:30:00", "sales-ends-at": "2030-03-10T03:30:00"},
    ).json["data"]["attributes"]
    assert attributes["sales-starts-at"] == "2030-03-10T01:30:00-08:00"
    assert attributes["sales-ends-at"] == "2030-03-10T03:30:00-07:00"


@pytest.mark.parametrize("raw", ["yes", "", "TRUE", "1"])
def test_sales_open_takes_only_true_or_false(testapp, event, raw):
    response = testapp.get(f"/v1/events/{event.id}/tickets?filter[sales-open]={raw}", status=400)
    assert response.json["errors"][0]["source"]["parameter"] == "filter[sales-open]"


def test_a_time_that_dst_skips_is_422(testapp, dbsession, owner, headers):
    event = make_event(dbsession, owner=owner, timezone="America/Los_Angeles")
    response = create(
        testapp, event, headers, status=422, **{"sales-starts-at": "2030-03-10T02:30:00"}
    )
    assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/sales-starts-at"


# Who sees and changes what


def test_hidden_tickets_are_seen_by_the_team_only(testapp, dbsession, login, event, headers):
    hidden = make_ticket(dbsession, event, name="hidden", is_hidden=True)
    make_ticket(dbsession, event, name="shown")
    stranger = login(make_user(dbsession))
    assert names(testapp, event, headers) == ["hidden", "shown"]
    for who in (None, stranger):
        assert names(testapp, event, who) == ["shown"]
        assert testapp.get(f"/v1/events/{event.id}/tickets", headers=who).json["meta"] == {
            "count": 1
        }
        testapp.get(f"/v1/tickets/{hidden.id}", headers=who, status=404)
    testapp.get(f"/v1/tickets/{hidden.id}", headers=headers, status=200)


def test_tickets_of_a_draft_event_are_seen_by_the_team_only(
    testapp, dbsession, login, owner, headers
):
    draft = make_event(dbsession, owner=owner)
    ticket = make_ticket(dbsession, draft)
    stranger = login(make_user(dbsession))
    for who in (None, stranger):
        testapp.get(f"/v1/tickets/{ticket.id}", headers=who, status=404)
        testapp.get(f"/v1/events/{draft.id}/tickets", headers=who, status=404)
    assert names(testapp, draft, headers) == ["Standard"]


def test_anonymous_and_strangers_cannot_change_tickets(testapp, dbsession, login, event, tickets):
    stranger = {**login(make_user(dbsession)), **JSONAPI_HEADERS}
    create(testapp, event, JSONAPI_HEADERS, status=401)
    create(testapp, event, stranger, status=403)
    patch(testapp, tickets[0], JSONAPI_HEADERS, status=401, position=2)
    patch(testapp, tickets[0], stranger, status=403, position=2)
    testapp.delete(f"/v1/tickets/{tickets[0].id}", status=401)
    testapp.delete(f"/v1/tickets/{tickets[0].id}", headers=stranger, status=403)
    assert positions(dbsession, event) == [(n, i) for i, n in enumerate("ABCDE", 1)]


def test_strangers_get_404_for_hidden_tickets_they_try_to_change(testapp, dbsession, login, event):
    hidden = make_ticket(dbsession, event, is_hidden=True)
    stranger = {**login(make_user(dbsession)), **JSONAPI_HEADERS}
    patch(testapp, hidden, stranger, status=404, name="mine")
    testapp.delete(f"/v1/tickets/{hidden.id}", headers=stranger, status=404)


def test_bad_requests_are_never_500(testapp, event, tickets, headers):
    url = f"/v1/tickets/{tickets[0].id}"
    testapp.get("/v1/tickets/abc", status=404)
    testapp.get("/v1/tickets/999999", status=404)
    testapp.patch(url, "{", headers=headers, status=400)
    testapp.patch_json(
        url, {"data": {"type": "session", "id": str(tickets[0].id)}}, headers=headers, status=409
    )
    testapp.patch_json(url, {"data": {"type": "ticket", "id": "0"}}, headers=headers, status=409)
    body = jsonapi_document("ticket", {"name": "x"}, event=("event", 999999))
    testapp.post_json("/v1/tickets", body, headers=headers, status=404)
    body = jsonapi_document("ticket", {"name": "x"})
    testapp.post_json("/v1/tickets", body, headers=headers, status=422)
    body = jsonapi_document("ticket", {"name": "x"}, id=tickets[0].id, event=("event", event.id))
    testapp.patch_json(url, body, headers=headers, status=422)
    testapp.delete(f"{url}?permanent=maybe", headers=headers, status=400)
    testapp.get(f"/v1/events/{event.id}/tickets?sort=colour", status=400)
    testapp.get(f"/v1/events/{event.id}/tickets?filter[price][lt]=cheap", status=400)


# Concurrency


@pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_ENV),
    reason=f"needs PostgreSQL and real commits: set {TEST_DATABASE_ENV}",
)
def test_concurrent_moves_keep_positions_one_to_n(app_settings, empty_database_url):
    import webtest

    threads, moves, count = 8, 15, 10
    config = configure({**app_settings, "sqlalchemy.url": empty_database_url})
    engine = config.registry["dbengine"]
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(config.get_settings(), connection=connection), "heads")
        with transaction_scope(config.registry) as session:
            owner = make_user(session, email="owner@example.org")
            event = make_event(session, owner=owner, state=EventState.PUBLISHED)
            ids = [make_ticket(session, event, name=str(i)).id for i in range(count)]
            event_id = event.id
        app = config.make_wsgi_app()
        login = webtest.TestApp(app).post_json(
            "/v1/auth/login", {"email": "owner@example.org", "password": "correct horse"}
        )
        headers = {"Authorization": f"Bearer {login.json['access_token']}", **JSONAPI_HEADERS}
        start = threading.Barrier(threads)
        answers: list[int] = []

        def reorder(seed):
            client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
            rng = random.Random(seed)
            start.wait()
            for _ in range(moves):
                ticket_id = rng.choice(ids)
                body = jsonapi_document("ticket", {"position": rng.randint(1, count)}, id=ticket_id)
                response = client.patch_json(
                    f"/v1/tickets/{ticket_id}", body, headers=headers, expect_errors=True
                )
                answers.append(response.status_int)

        workers = [threading.Thread(target=reorder, args=(seed,)) for seed in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

        with engine.connect() as connection:
            stored = connection.scalars(
                select(Ticket.position).where(Ticket.event_id == event_id).order_by(Ticket.position)
            ).all()
        assert answers == [200] * (threads * moves)
        assert stored == list(range(1, count + 1))
    finally:
        engine.dispose()
