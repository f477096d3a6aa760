"""The event a site URL names, by its public identifier: published events only.

Drafts and events in the trash are not there at all (404), for everyone: the site has no
signed-in readers. ``context.event`` is what openevent's per-event switch reads, so every page
answers 404 for events whose organizers turned the site off.
"""

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import select

from openevent.models import Event, EventState


class SiteEvent:
    """A published event, for routes under /events/{identifier}/."""

    def __init__(self, request):
        self.request = request
        identifier = request.matchdict["identifier"]
        query = select(Event).where(
            Event.identifier == identifier,
            Event.state == EventState.PUBLISHED,
            Event.deleted_at.is_(None),
        )
        event = request.dbsession.scalar(query)
        if event is None:
            raise HTTPNotFound(f"no published event {identifier!r}")
        self.event = event
