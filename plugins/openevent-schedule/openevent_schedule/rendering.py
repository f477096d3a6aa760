"""Jinja2 templates through pyramid_jinja2, and the filters the site's templates use.

``renderer="openevent_schedule:templates/x.jinja2"`` renders a template; the view's dict is
its context. The site's own gettext functions come with each page (see
:func:`openevent_schedule.views.page`), not from pyramid_jinja2's thread-local request, so a
page is translated by the language it was asked in, whatever Pyramid's negotiator says.
"""

import sys

from markupsafe import Markup

from openevent.api.plugin import FieldContext, Html
from openevent_schedule.collation import collatesort

# No length limit here: what is stored was limited when it was written.
_HTML = Html(max_length=sys.maxsize)
_UTC = FieldContext()


def sanitized(html: str | None) -> Markup:
    """Jinja filter: organizers' HTML reduced to the API's allow-list (rows written around the
    API, by an import, are cleaned here too), safe to insert."""
    return Markup(_HTML.parse_value(html, _UTC) if html else "")


def includeme(config):
    config.include("pyramid_jinja2")

    def add_filters():
        environment = config.get_jinja2_environment()
        environment.filters["collatesort"] = collatesort
        environment.filters["sanitized"] = sanitized

    # After pyramid_jinja2 has made its environment (in an action of an earlier phase), as its
    # documentation shows.
    config.action(None, add_filters, order=999)
