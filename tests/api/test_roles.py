import pytest

from openevent.models import EventRole, Role
from openevent.testing import JSONAPI_HEADERS, jsonapi_document, make_event, make_user


@pytest.fixture
def team(dbsession):
    owner, organizer = make_user(dbsession, password=None), make_user(dbsession, password=None)
    event = make_event(dbsession, owner=owner)
    role = EventRole(event=event, user=organizer, role=Role.ORGANIZER)
    dbsession.add(role)
    dbsession.flush()
    return event, owner, organizer, role


def _headers(token_for, user):
    return {**JSONAPI_HEADERS, **token_for(user)}


def test_team_lists_roles(testapp, team, token_for):
    event, owner, organizer, _ = team
    data = testapp.get(f"/v1/events/{event.id}/roles", headers=token_for(organizer)).json["data"]
    assert sorted(r["attributes"]["role"] for r in data) == ["organizer", "owner"]
    assert {r["relationships"]["user"]["data"]["id"] for r in data} == {
        str(owner.id),
        str(organizer.id),
    }


def test_outsiders_do_not_see_the_team(testapp, team, token_for, dbsession):
    event = team[0]
    testapp.get(f"/v1/events/{event.id}/roles", status=404)
    testapp.get(
        f"/v1/events/{event.id}/roles",
        headers=token_for(make_user(dbsession, password=None)),
        status=404,
    )


def test_organizer_cannot_grant_owner(testapp, team, token_for, dbsession):
    event, _, organizer, _ = team
    newcomer = make_user(dbsession, password=None)
    body = jsonapi_document("event-role", {"role": "owner"}, user=("user", newcomer.id))
    testapp.post_json(
        f"/v1/events/{event.id}/roles", body, headers=_headers(token_for, organizer), status=403
    )


def test_owner_grants_owner_and_the_last_owner_stays(testapp, team, token_for, dbsession):
    event, owner, _, role = team
    owner_role = next(r for r in event.roles if r.role is Role.OWNER)
    url = f"/v1/events/{event.id}/roles/{owner_role.id}"
    response = testapp.delete(url, headers=_headers(token_for, owner), status=409)
    assert "keep an owner" in response.json["errors"][0]["detail"]
    body = jsonapi_document("event-role", {"role": "owner"}, id=role.id)
    testapp.patch_json(
        f"/v1/events/{event.id}/roles/{role.id}",
        body,
        headers=_headers(token_for, owner),
        status=200,
    )
    testapp.delete(url, headers=_headers(token_for, owner), status=204)


def test_a_user_has_one_role_per_event(testapp, team, token_for):
    event, owner, organizer, _ = team
    body = jsonapi_document("event-role", {"role": "coorganizer"}, user=("user", organizer.id))
    testapp.post_json(
        f"/v1/events/{event.id}/roles", body, headers=_headers(token_for, owner), status=409
    )


@pytest.mark.parametrize(
    ("attributes", "relationships", "pointer"),
    [
        ({"role": "emperor"}, {"user": ("user", 1)}, "/data/attributes/role"),
        ({"role": "organizer"}, {"user": ("user", 999999)}, "/data/relationships/user/data"),
        ({"role": "organizer"}, {}, "/data/relationships/user"),
    ],
)
def test_bad_role_requests(testapp, team, token_for, attributes, relationships, pointer):
    event, owner, _, _ = team
    body = jsonapi_document("event-role", attributes, **relationships)
    response = testapp.post_json(
        f"/v1/events/{event.id}/roles", body, headers=_headers(token_for, owner), status=422
    )
    assert pointer in [e["source"]["pointer"] for e in response.json["errors"]]


def test_unknown_role_id_is_404(testapp, team, token_for):
    event, owner, _, _ = team
    testapp.delete(
        f"/v1/events/{event.id}/roles/999999", headers=_headers(token_for, owner), status=404
    )
