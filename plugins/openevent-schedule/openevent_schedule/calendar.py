"""A session as an iCalendar file of one event, for "add to calendar"."""

from icalendar import Calendar, Event

from openevent_schedule import __name__ as _package

PRODID = f"-//openevent//{_package}//EN"


def ics_of_session(session, url: str, host: str) -> bytes:
    """The ``.ics`` of ``session`` (which has a start and an end), its times in UTC."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    entry = Event()
    entry.add("uid", f"session-{session.id}@{host}")
    entry.add("dtstamp", session.last_modified_at)
    entry.add("dtstart", session.starts_at)
    entry.add("dtend", session.ends_at)
    entry.add("summary", session.title)
    place = [p for p in (session.microlocation and session.microlocation.name,) if p]
    if session.event.location_name:
        place.append(session.event.location_name.strip())
    if place:
        entry.add("location", ", ".join(place))
    if session.abstract_preview:
        entry.add("description", session.abstract_preview)
    entry.add("url", url)
    calendar.add_component(entry)
    return calendar.to_ical()
