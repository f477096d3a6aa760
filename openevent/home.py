"""``GET /``: which server this is, and where its API description and health check are.

A small HTML page for people who open the server's address in a browser, and the same facts as
JSON for clients that ask for ``application/json`` or ``application/vnd.api+json`` (a JSON:API
document with only ``meta`` and ``links``).
"""

from html import escape

from pyramid.response import Response

from openevent import __version__
from openevent.api.documents import MEDIA_TYPE

NAME = "openevent"
# In order of preference when the client accepts several equally (or sends no Accept).
_OFFERS = ("text/html", "application/json", MEDIA_TYPE)

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{name} {version}</title></head>
<body>
<h1>{name} {version}</h1>
<p>An event-management server. Its JSON:API lives under <code>/v1</code>.</p>
<ul>
<li><a href="{api}">API description</a> (OpenAPI 3.1)</li>
<li><a href="{health}">Health check</a></li>
</ul>
</body>
</html>
"""


def home(request):
    api, health = request.route_path("openapi"), request.route_path("healthz")
    offers = request.accept.acceptable_offers(_OFFERS)
    media_type = offers[0][0] if offers else "text/html"
    if media_type == "text/html":
        body = _PAGE.format(
            name=NAME, version=escape(__version__), api=escape(api), health=escape(health)
        )
        response = Response(body, content_type="text/html", charset="utf-8")
    else:
        response = Response(content_type=media_type, charset=None)
        response.json_body = {
            "jsonapi": {"version": "1.1"},
            "meta": {"name": NAME, "version": __version__, "health": health},
            "links": {"self": request.route_path("home"), "describedby": api},
        }
    response.vary = ("Accept",)
    return response


def includeme(config):
    config.add_route("home", "/")
    config.add_view(home, route_name="home", request_method=("GET", "HEAD"))
