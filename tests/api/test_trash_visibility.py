"""The trash is the team's: anyone else asking for it gets 404, as for a row in it read by its
URL, so that neither the trash nor what it holds leaks (docs/api.md, "Who may do what")."""

import pytest

from openevent.db import utcnow
from openevent.models import EventRole, Role
from openevent.testing import make_event, make_session, make_speaker, make_ticket, make_user

COLLECTIONS = ["sessions", "speakers", "tickets"]


@pytest.fixture
def trash(dbsession, event):
    """One row of each collection in the published event's trash."""
    for make in (make_session, make_speaker, make_ticket):
        make(dbsession, event, deleted_at=utcnow())


def _is_trash_404(response) -> None:
    assert response.status_int == 404
    (error,) = response.json["errors"]
    assert error["status"] == "404" and error["code"] == "not-found"
    assert error["source"] == {"parameter": "filter[trashed]"}


@pytest.mark.parametrize("plural", COLLECTIONS)
@pytest.mark.parametrize("which", ["only", "with"])
def test_strangers_get_404_for_an_events_trash(
    testapp, dbsession, event, trash, token_for, plural, which
):
    url = f"/v1/events/{event.id}/{plural}?filter[trashed]={which}"
    stranger = token_for(make_user(dbsession, password=None))
    for headers in ({}, stranger):  # anonymous or signed in, it is not there for them
        _is_trash_404(testapp.get(url, headers=headers, expect_errors=True))


@pytest.mark.parametrize("plural", COLLECTIONS)
@pytest.mark.parametrize("role", list(Role))
def test_the_team_sees_the_trash(testapp, dbsession, event, trash, token_for, plural, role):
    member = make_user(dbsession, password=None)
    dbsession.add(EventRole(event=event, user=member, role=role))
    dbsession.flush()
    url = f"/v1/events/{event.id}/{plural}?filter[trashed]=only"
    assert len(testapp.get(url, headers=token_for(member)).json["data"]) == 1


def test_an_empty_trash_answers_strangers_the_same(testapp, event):
    # Whether the trash holds anything makes no difference to what a stranger gets.
    url = f"/v1/events/{event.id}/sessions?filter[trashed]=only"
    _is_trash_404(testapp.get(url, expect_errors=True))


def test_the_events_trash_holds_only_the_callers_events(testapp, dbsession, owner, token_for):
    mine = make_event(dbsession, owner=owner, deleted_at=utcnow())
    make_event(dbsession, owner=make_user(dbsession, password=None), deleted_at=utcnow())
    url = "/v1/events?filter[trashed]=only"
    assert [e["id"] for e in testapp.get(url, headers=token_for(owner)).json["data"]] == [
        str(mine.id)
    ]
    # Signed in, on no team: an empty trash. Anonymous: on no team, ever; 404 as above.
    stranger = token_for(make_user(dbsession, password=None))
    assert testapp.get(url, headers=stranger).json["data"] == []
    _is_trash_404(testapp.get(url, expect_errors=True))
    _is_trash_404(testapp.get("/v1/events?filter[trashed]=with", expect_errors=True))
