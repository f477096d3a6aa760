"""The other plugins the site uses where they act for the event: the versions plugin's
counters (the pages' ETags) and the exports plugin's feeds (links on every page).

Each is asked through what it makes public; a plugin that is not installed, not active in this
app or turned off for the event is simply not used.
"""

from __future__ import annotations

from importlib import import_module

from openevent.plugins import PLUGINS_KEY, PluginState, is_enabled_for_event

# The exports plugin's feeds of an event: (file name under /v1/events/{id}/, type, title).
FEEDS = (
    ("schedule.ics", "text/calendar", "iCalendar"),
    ("schedule.xcal", "application/calendar+xml", "xCal"),
    ("schedule.xml", "application/xml", "Pentabarf/frab XML"),
    ("schedule.json", "application/json", "JSON"),
)


def acts_for(request, plugin: str, event) -> bool:
    """Whether ``plugin`` is loaded in this app and on for ``event``."""
    info = request.registry.get(PLUGINS_KEY, {}).get(plugin)
    if info is None or info.state is not PluginState.ACTIVE:
        return False
    return is_enabled_for_event(request.dbsession, plugin, event.id)


def counters(request, event) -> dict[str, int] | None:
    """The versions plugin's counters of ``event`` (``openevent_versions.event_counters``);
    None where it does not keep them."""
    if not acts_for(request, "versions", event):
        return None
    return import_module("openevent_versions").event_counters(request.dbsession, event.id)


def feeds(request, event) -> list[dict]:
    """Links to the exports plugin's feeds of ``event``; none where it is off."""
    if not acts_for(request, "exports", event):
        return []
    return [
        {"href": f"/v1/events/{event.id}/{name}", "type": media_type, "title": title}
        for name, media_type, title in FEEDS
    ]
