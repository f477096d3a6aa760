"""Schedule: the public site of each published event, rendered by the server.

``/events/{identifier}/`` (the event), ``.../schedule``, ``.../sessions/{id}`` (and its
``.ics``), ``.../speakers`` and ``.../speakers/{id}``: Jinja2 templates, gettext catalogs for
each language the site speaks, assets served by the app, ETags from the versions plugin's
counters. Organizers turn the site off per event like any plugin; its pages then answer 404.
"""

requires_openevent = ">=0.1,<0.2"
description = "The public site of each published event: schedule, sessions and speakers"


def includeme(config):
    """Runs after openevent's configuration; the site's routes live outside /v1."""
    # Jinja2 templates (.jinja2) and the site's filters; before the views that render them.
    config.include(".rendering")
    # The pages, their assets, and the HTML error pages of the site's paths.
    config.include(".views")
    config.include(".errors")
