"""``GET /healthz``: is the database reachable, and at which schema revision."""

from pyramid.view import view_config
from sqlalchemy.exc import SQLAlchemyError

from openevent.db.migrations import current_heads, expected_heads


@view_config(route_name="healthz", renderer="json", request_method="GET")
def healthz(request):
    """200 with the schema revisions when the database answers, 503 when it does not."""
    expected = list(request.registry["expected_heads"])
    try:
        with request.registry["dbengine"].connect() as connection:
            current = list(current_heads(connection))
    except SQLAlchemyError as exc:
        request.response.status_int = 503
        return {
            "status": "unavailable",
            "database": {"reachable": False, "error": type(exc.orig or exc).__name__},
        }
    return {
        "status": "ok",
        "database": {
            "reachable": True,
            "revision": current,
            "expected_revision": expected,
            "at_head": current == expected,
        },
    }


def includeme(config):
    config.registry["expected_heads"] = expected_heads(config.get_settings())
    config.add_route("healthz", "/healthz")
    config.scan(__name__)
