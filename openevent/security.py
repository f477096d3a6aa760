"""Who is calling (bearer tokens) and what they may do (ACLs built from event roles).

Principals are ``system.Everyone``, ``system.Authenticated``, ``user:<id>`` and, for site
administrators, ``admin``. Contexts (see :mod:`openevent.api.contexts`) grant permissions to
these principals from the event's team.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import timedelta

from pyramid.authorization import ACLHelper, Allow, Authenticated, Everyone
from pyramid.events import NewRequest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from openevent.db import utcnow
from openevent.models import AuthToken, Role, User


class Permission:
    """Named permissions; views and ACLs use these constants, never bare strings."""

    VIEW = "event:view"  # read the event and its public rows
    VIEW_TEAM = "event:view-team"  # also drafts, other session states, trash, hidden tickets
    EDIT = "event:edit"  # change the event itself
    DELETE = "event:delete"
    MANAGE_ROLES = "event:manage-roles"
    EDIT_PROGRAM = "program:edit"  # sessions and their types, speakers, tracks, rooms, sponsors...
    EDIT_TICKETS = "ticket:edit"  # tickets, including their order
    CREATE_EVENT = "event:create"
    ADMIN = "site:admin"  # event types


ADMIN_PRINCIPAL = "admin"

_COORGANIZER = (
    Permission.VIEW,
    Permission.VIEW_TEAM,
    Permission.EDIT_PROGRAM,
    Permission.EDIT_TICKETS,
)
# Owners and organizers may do the same; only owners grant or take the owner role, a rule the
# roles views enforce.
_ORGANIZER = (*_COORGANIZER, Permission.EDIT, Permission.DELETE, Permission.MANAGE_ROLES)
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.OWNER: _ORGANIZER,
    Role.ORGANIZER: _ORGANIZER,
    Role.COORGANIZER: _COORGANIZER,
}


# Registry key of the app's role table: ROLE_PERMISSIONS with what plugins added.
_ROLE_PERMISSIONS_KEY = "openevent.role_permissions"
_CORE_PERMISSIONS = frozenset(
    value for name, value in vars(Permission).items() if not name.startswith("_")
)
_PERMISSION_NAME = re.compile(r"[a-z0-9_]+:[a-z0-9-]+")


def role_permissions(registry) -> Mapping[Role, tuple[str, ...]]:
    """What each role of an event's team may do in this app: :data:`ROLE_PERMISSIONS` and the
    permissions plugins define with ``config.add_event_permission``."""
    return registry.get(_ROLE_PERMISSIONS_KEY, ROLE_PERMISSIONS)


def add_event_permission(config, permission: str, roles: Iterable[Role | str]) -> None:
    """Config directive: grant ``permission``, a permission of the plugin's own, on every event
    to the members of its team with one of ``roles``.

    ``config.add_event_permission("audit:read", roles=("owner", "organizer"))``. Views and
    :func:`openevent.api.crud.add_event_scoped_resource` then use it like the core's own. The
    core's permissions cannot be redefined or given to more roles, and two plugins defining the
    same permission conflict at start-up, as two routes of the same name do.
    """
    if not isinstance(permission, str) or not _PERMISSION_NAME.fullmatch(permission):
        raise ConfigurationError(
            f"event permission {permission!r} must be written plugin:action, in lowercase "
            "letters, digits, '_' (before the colon) and '-' (after it), e.g. audit:read"
        )
    if permission in _CORE_PERMISSIONS:
        raise ConfigurationError(f"{permission} is openevent's own permission")
    roles = (roles,) if isinstance(roles, str) else tuple(roles)
    try:
        granted = tuple(dict.fromkeys(Role(role) for role in roles))
    except ValueError:
        names = ", ".join(role.value for role in Role)
        raise ConfigurationError(f"roles of {permission} must be among {names}") from None
    if not granted:
        raise ConfigurationError(f"{permission} must be granted to at least one role")

    def register():
        table = config.registry[_ROLE_PERMISSIONS_KEY]
        for role in granted:
            table[role] = (*table[role], permission)

    introspectable = config.introspectable(
        "event permissions", permission, permission, "event permission"
    )
    introspectable["roles"] = granted
    # The discriminator makes a second definition of the same permission a conflict.
    config.action(
        ("openevent.event-permission", permission), register, introspectables=[introspectable]
    )


def user_principal(user_id: int) -> str:
    return f"user:{user_id}"


class InvalidToken(Exception):
    """An Authorization header was sent but names no live token."""


def _token_hash(secret: str, token: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def issue_token(request, user: User) -> tuple[str, AuthToken]:
    """Create a login token for ``user``; the clear token is returned once and never stored."""
    settings = request.registry.settings
    token = secrets.token_urlsafe(32)
    lifetime = timedelta(hours=settings["openevent.auth.token_lifetime_hours"])
    record = AuthToken(
        user=user,
        token_hash=_token_hash(settings["openevent.secret"], token),
        expires_at=utcnow() + lifetime,
    )
    request.dbsession.add(record)
    request.dbsession.flush()
    return token, record


def _bearer_token(request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def _current_token(request) -> AuthToken | None:
    token = _bearer_token(request)
    if token is None:
        return None
    digest = _token_hash(request.registry.settings["openevent.secret"], token)
    record = request.dbsession.scalar(select(AuthToken).where(AuthToken.token_hash == digest))
    if record is None or record.revoked_at is not None:
        raise InvalidToken("the token is unknown or was revoked; log in again")
    if record.expires_at <= utcnow():
        raise InvalidToken("the token has expired; log in again")
    return record


class SecurityPolicy:
    """Bearer-token identity with ACL authorization."""

    def __init__(self):
        self._acl = ACLHelper()

    def identity(self, request) -> User | None:
        try:
            token = request.auth_token
        except InvalidToken:
            return None  # already answered with a 401 by _reject_invalid_token on the API
        return token.user if token is not None else None

    def authenticated_userid(self, request) -> int | None:
        user = request.identity
        return user.id if user is not None else None

    def permits(self, request, context, permission):
        return self._acl.permits(context, self.principals(request), permission)

    def principals(self, request) -> list[str]:
        user = request.identity
        if user is None:
            return [Everyone]
        principals = [Everyone, Authenticated, user_principal(user.id)]
        if user.is_admin:
            principals.append(ADMIN_PRINCIPAL)
        return principals

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


class RootContext:
    """Context of routes that belong to no event: logged-in users may create events."""

    __acl__ = [
        (Allow, Authenticated, Permission.CREATE_EVENT),
        (Allow, ADMIN_PRINCIPAL, Permission.ADMIN),
    ]

    def __init__(self, request):
        self.request = request


def _reject_invalid_token(event):
    """A bad or expired token on the API is a 401 at once, whatever the route."""
    request = event.request
    if request.path_info.startswith("/v1/"):
        request.auth_token  # noqa: B018  (raises InvalidToken, rendered by the API's error views)


def includeme(config):
    config.set_security_policy(SecurityPolicy())
    # This app's role table, which plugins extend with config.add_event_permission().
    config.registry[_ROLE_PERMISSIONS_KEY] = dict(ROLE_PERMISSIONS)
    config.add_directive("add_event_permission", add_event_permission)
    config.add_request_method(_current_token, "auth_token", reify=True)
    # NewRequest runs inside the exception-view tween, so the error becomes a JSON:API 401.
    config.add_subscriber(_reject_invalid_token, NewRequest)
    config.set_root_factory(RootContext)
