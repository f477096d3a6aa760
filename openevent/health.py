"""``GET /healthz``: is the database reachable, and at which schema revision."""

from pyramid.view import view_config
from sqlalchemy.exc import SQLAlchemyError

from openevent.db.migrations import current_heads, expected_heads
from openevent.schema_guard import STATE_KEY


@view_config(route_name="healthz", renderer="json", request_method="GET")
def healthz(request):
    """200 with the schema revisions when the database answers, 503 when it does not.

    A database behind the code's revisions still answers 200 (the process is up, and taking
    every instance out of the load balancer would help nobody), with ``status`` saying
    ``schema-out-of-date`` and the command that fixes it, as the API's 503s do.
    """
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
    # What was just read is the freshest answer: the API's schema check shares it.
    status = request.registry[STATE_KEY].record(current)
    database = {
        "reachable": True,
        "revision": current,
        "expected_revision": expected,
        "at_head": status.at_head,
    }
    if not status.at_head:
        database["detail"] = status.explanation()
        database["command"] = status.command
    return {"status": "ok" if status.at_head else "schema-out-of-date", "database": database}


def includeme(config):
    config.registry["expected_heads"] = expected_heads(config.get_settings())
    config.add_route("healthz", "/healthz")
    config.scan(__name__)
