"""The sample plugin's per-event settings, which organizers read and change through
/v1/events/{id}/plugins/sample. Each is an API field with a default and a help text."""

from openevent.api.plugin import Boolean, String
from openevent.plugins import Setting

event_settings = {
    "welcome-note": Setting(
        Boolean(),
        default=True,
        description="Leave a note when the plugin is turned on for the event",
    ),
    "welcome-text": Setting(
        String(min_length=1, max_length=200),
        default="Notes are on for this event.",
        description="The text of that note",
    ),
    "keep-notes": Setting(
        Boolean(),
        default=True,
        description="Keep the event's notes when the plugin is turned off",
    ),
}
