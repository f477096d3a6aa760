from datetime import timedelta

from sqlalchemy import select

from openevent.models import AuthToken
from openevent.testing import JSONAPI_HEADERS, jsonapi_document, make_user


def register(testapp, status=201, **attributes):
    body = jsonapi_document(
        "user", {"email": "ada@example.org", "password": "analytical", **attributes}
    )
    return testapp.post_json("/v1/users", body, headers=JSONAPI_HEADERS, status=status)


def test_register_returns_the_user_without_password(testapp):
    response = register(testapp)
    assert response.content_type == "application/vnd.api+json"
    data = response.json["data"]
    assert data["type"] == "user"
    assert data["attributes"]["email"] == "ada@example.org"
    assert "password" not in data["attributes"]
    assert response.headers["Location"].endswith(f"/v1/users/{data['id']}")


def test_register_twice_is_a_conflict_whatever_the_case(testapp):
    register(testapp)
    response = register(testapp, status=409, email="ADA@example.org")
    assert response.json["errors"][0]["source"]["pointer"] == "/data/attributes/email"


def test_register_validates_every_field(testapp):
    response = register(testapp, status=422, email="not-an-email", password="short")
    pointers = {error["source"]["pointer"] for error in response.json["errors"]}
    assert pointers == {"/data/attributes/email", "/data/attributes/password"}


def test_login_use_and_logout(testapp):
    register(testapp)
    login = testapp.post_json(
        "/v1/auth/login", {"email": "Ada@example.org", "password": "analytical"}, status=200
    ).json
    assert login["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    me = testapp.get("/v1/users", status=405)
    assert me.json["errors"][0]["status"] == "405"
    testapp.post("/v1/auth/logout", headers=headers, status=204)
    error = testapp.post("/v1/auth/logout", headers=headers, status=401).json["errors"][0]
    assert "revoked" in error["detail"]


def test_wrong_password_is_401(testapp, dbsession):
    user = make_user(dbsession)
    response = testapp.post_json(
        "/v1/auth/login", {"email": user.email, "password": "wrong"}, status=401
    )
    assert response.json["errors"][0]["code"] == "unauthorized"


def test_expired_token_is_refused(testapp, dbsession, login):
    user = make_user(dbsession)
    headers = login(user)
    dbsession.expire_all()
    for token in dbsession.scalars(select(AuthToken)):
        token.expires_at = token.expires_at - timedelta(days=365)
    dbsession.flush()
    body = jsonapi_document("event", {"name": "x"})
    error = testapp.post_json(
        "/v1/events", body, headers={**headers, **JSONAPI_HEADERS}, status=401
    ).json["errors"][0]
    assert "expired" in error["detail"]


def test_malformed_login_body(testapp):
    testapp.post("/v1/auth/login", "{not json", content_type="application/json", status=400)
    testapp.post("/v1/auth/login", "[]", content_type="application/json", status=400)
    testapp.post(
        "/v1/auth/login", "x=1", content_type="application/x-www-form-urlencoded", status=415
    )
