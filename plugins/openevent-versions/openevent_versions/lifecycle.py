"""Turned back on for an event: every counter of the event goes up by one."""

from openevent_versions.counters import bump_counters
from openevent_versions.models import COLLECTIONS


def on_enabled(switch):
    """Raise every counter of the event, in the transaction that turns the plugin on.

    While the plugin was off, changes raised nothing, so a client that kept the counters from
    before would never learn of them. One bump of each collection makes it refetch each once.
    """
    bump_counters(switch.dbsession, switch.event_id, COLLECTIONS)
