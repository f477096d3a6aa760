"""Request bodies: oversized ones are refused before anything reads them; the rest stay in memory.

pyramid_retry copies each request body so it can replay the request, before any tween or view
runs. Without a guard in front of it, a client could make every process spool a huge upload
before the API's size check; and WebOb spools copies over 10 KB into a temporary file that
nobody closes.
"""

import orjson
from pyramid.interfaces import IExecutionPolicy
from pyramid.request import Request
from pyramid.router import default_execution_policy
from webob import Response

from openevent.api.documents import MEDIA_TYPE
from openevent.api.errors import JSONAPI, PayloadTooLarge


def _too_large(limit: int) -> Response:
    error = PayloadTooLarge(f"the body is larger than {limit} bytes")
    body = orjson.dumps({"errors": error.error_objects(), "jsonapi": JSONAPI})
    return Response(body=body, status=413, content_type=MEDIA_TYPE, charset=None)


def _limited(policy, limit: int):
    def execution_policy(environ, router):
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > limit:
            return _too_large(limit)
        return policy(environ, router)

    return execution_policy


def includeme(config):
    limit = config.get_settings()["openevent.api.max_body_bytes"]
    config.set_request_factory(type("Request", (Request,), {"request_body_tempfile_limit": limit}))

    def wrap_execution_policy():
        registry = config.registry
        policy = registry.queryUtility(IExecutionPolicy, default=default_execution_policy)
        registry.registerUtility(_limited(policy, limit), IExecutionPolicy)

    # After pyramid_retry has set its policy (an action of its own, in an earlier phase).
    config.action(None, wrap_execution_policy, order=10)
