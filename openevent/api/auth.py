"""Accounts: registration, login and logout with bearer tokens."""

from pyramid.httpexceptions import HTTPNoContent
from sqlalchemy import select

from openevent.api.documents import read_json, read_resource_object
from openevent.api.errors import (
    JSONAPI,
    BadRequest,
    Conflict,
    NotFound,
    Unauthorized,
    Unprocessable,
    ValidationFailed,
)
from openevent.api.fields import DateTime, Email, FieldContext, Invalid, String, check_text
from openevent.api.openapi import describe
from openevent.api.resources import Resource, register
from openevent.db import utcnow
from openevent.models import User
from openevent.security import issue_token

MIN_PASSWORD_LENGTH = 8


class UserResource(Resource):
    event_attr = None  # accounts belong to no event


user_resource = register(
    UserResource(
        type="user",
        model=User,
        path="/v1/users",
        fields={
            "email": Email(required=True),
            "created-at": DateTime(read_only=True),
        },
    )
)


def register_user(request):
    """POST /v1/users: a new account; the password is hashed and never returned."""
    data = read_resource_object(request, "user")
    attributes = dict(data.get("attributes", {}))
    password = attributes.pop("password", None)
    errors = []
    try:
        _check_password(password)
    except Invalid as exc:
        errors.append(Unprocessable(f"password {exc}", pointer="/data/attributes/password"))
    user = User()
    try:
        user_resource.apply(
            request, user, {"attributes": attributes}, FieldContext(), creating=True
        )
    except ValidationFailed as exc:
        errors = exc.errors + errors
    if errors:
        raise ValidationFailed(errors)
    if request.dbsession.scalar(select(User.id).where(User.email == user.email)) is not None:
        raise Conflict("an account with this email exists", pointer="/data/attributes/email")
    user.set_password(password)
    request.dbsession.add(user)
    request.dbsession.flush()
    request.response.status_int = 201
    request.response.headers["Location"] = request.application_url + user_resource.link(user)
    return {"data": user_resource.serialize(user, FieldContext()), "jsonapi": JSONAPI}


def _check_password(password) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"must be a string of {MIN_PASSWORD_LENGTH} or more characters")
    check_text(password)


def read_user(request):
    """GET /v1/users/{id}: your own account only."""
    user = request.identity
    if user is None:
        raise Unauthorized("log in to see your account")
    if request.matchdict["id"] != str(user.id):
        raise NotFound("no such user (you can only see your own account)")
    return {"data": user_resource.serialize(user, FieldContext()), "jsonapi": JSONAPI}


def login(request):
    """POST /v1/auth/login with {"email", "password"}: a bearer token."""
    body = read_json(request, media_types=("application/json", "application/vnd.api+json"))
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object with email and password")
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise Unprocessable("email and password must be strings", pointer="/email")
    for name, value in (("email", email), ("password", password)):
        try:
            check_text(value)
        except Invalid as exc:
            raise Unprocessable(f"{name} {exc}", pointer=f"/{name}") from None
    try:
        email = String(max_length=254).parse(email, FieldContext()).strip().lower()
    except Invalid:
        raise Unauthorized("wrong email or password") from None
    user = request.dbsession.scalar(select(User).where(User.email == email))
    if user is None or not user.check_password(password):
        raise Unauthorized("wrong email or password")
    token, record = issue_token(request, user)
    request.response.content_type = "application/json"
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_at": record.expires_at.isoformat(),
    }


def logout(request):
    """POST /v1/auth/logout: revoke the token the request carries."""
    token = request.auth_token
    if token is None:
        raise Unauthorized("send the token to revoke as Authorization: Bearer <token>")
    token.revoked_at = utcnow()
    return HTTPNoContent()


_CREDENTIALS = {
    "type": "object",
    "required": ["email", "password"],
    "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
}
_TOKEN = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_at"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"const": "bearer"},
        "expires_at": {"type": "string", "format": "date-time"},
    },
}
describe(
    register_user,
    "create",
    "user",
    summary="Register an account",
    write_only={"password": {"type": "string", "minLength": MIN_PASSWORD_LENGTH}},
)
describe(read_user, "read", "user", summary="Read your own account", parameters=())
describe(
    login,
    "custom",
    summary="Log in: a bearer token for Authorization headers",
    request_schema=_CREDENTIALS,
    response_schema=_TOKEN,
    content_type="application/json",
)
describe(logout, "custom", summary="Log out: revoke the token sent", status="204")


def includeme(config):
    json = dict(renderer="jsonapi")
    config.add_route("user.collection", "/users")
    config.add_route("user.item", "/users/{id}")
    config.add_route("auth.login", "/auth/login")
    config.add_route("auth.logout", "/auth/logout")
    config.add_view(register_user, route_name="user.collection", request_method="POST", **json)
    config.add_view(read_user, route_name="user.item", request_method="GET", **json)
    config.add_view(login, route_name="auth.login", request_method="POST", renderer="json")
    config.add_view(logout, route_name="auth.logout", request_method="POST", **json)
