"""Registers a route, a view and a subscriber, then raises: none of them may stay."""

from pyramid.events import NewResponse

requires_openevent = ">=0.1"
HEADER = "X-Openevent-Broken"


def half_made(request):
    return {"data": []}


def mark_response(event):
    event.response.headers[HEADER] = "1"


def includeme(config):
    config.add_route("broken.half", "/broken-half")
    config.add_view(half_made, route_name="broken.half", renderer="jsonapi")
    config.add_subscriber(mark_response, NewResponse)
    config.registry["broken.marker"] = True
    config.add_settings({"broken.setting": "on"})
    raise RuntimeError("the sample plugin breaks halfway")
