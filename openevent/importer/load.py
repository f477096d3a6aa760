"""From a :class:`~openevent.importer.normalize.Program` to rows: one new event, owned by the
importing user, with its program.

Every value goes through the API's own field of the same name (:mod:`openevent.api.fields`), so
an import accepts exactly what a client could write, sanitized the same way: the Open Event
file format and openevent's API share their names (``starts-at``, ``short-abstract``). What no
field takes (read-only, computed, unknown) is counted on the report as an ignored key; a value a
field refuses is skipped (the attribute left empty) with the reason, or, where the record cannot
exist without it (a speaker's name), the record is. Times without an offset are read in the
event's timezone.
"""

from collections import Counter
from datetime import datetime
from typing import Any

import pytz

from openevent.api.fields import Choice, DateTime, FieldContext, Html, Invalid, String
from openevent.api.resources import RESOURCES, Resource
from openevent.importer.normalize import Program, Record
from openevent.importer.report import ImportFailed, Report
from openevent.importer.timezones import UnknownTimezone, iana_timezone
from openevent.models import Event, EventRole, Role

# Collection -> the API resource type whose fields read it. A collection whose resource does not
# exist (yet) is counted as not imported, key by key.
RESOURCE_TYPES = {
    "tracks": "track",
    "microlocations": "microlocation",
    "session-types": "session-type",
    "sponsors": "sponsor",
    "speakers": "speaker",
    "sessions": "session",
}
# Keys that are openevent's own business on import: a new event gets a new identifier and starts
# out as a draft for its new team to check, whatever the file says.
EVENT_KEYS_NOT_TAKEN = {"identifier", "state"}


def _naive(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        return False


class Loader:
    def __init__(self, dbsession, report: Report):
        self.dbsession = dbsession
        self.report = report
        self.naive_times: Counter = Counter()  # file -> values read in the event's timezone

    def values(self, resource: Resource, obj, record_values: dict, ctx, file: str, id_) -> bool:
        """Set ``obj``'s attributes from ``record_values``; False if a required one failed."""
        for key, value in record_values.items():
            spec = resource.fields.get(key)
            if spec is None or spec.read_only or hasattr(spec, "compute"):
                self.report.ignored(file, key)
                continue
            if key == "deleted-at":  # trashed in the exporting server: trashed here too
                if value not in (None, ""):
                    self._set(DateTime(attr="deleted_at"), obj, key, value, ctx, file, id_)
                continue
            if isinstance(spec, Choice) and isinstance(value, str):
                value = value.strip().lower()
            elif isinstance(spec, String) and not isinstance(spec, Html) and isinstance(value, str):
                value = value.strip()
            if value == "" and spec.nullable:
                value = None  # exports write "" for "none"
            if not self._set(spec, obj, key, value, ctx, file, id_) and spec.required:
                return False
        return True

    def _set(self, spec, obj, key, value, ctx, file, id_) -> bool:
        try:
            parsed = spec.parse(value, ctx)
        except Invalid as exc:
            if not spec.required:
                self.report.skipped(file, id_, f"{key}: {exc}; left empty")
            return False
        if isinstance(spec, DateTime) and _naive(value):
            self.naive_times[file] += 1
        setattr(obj, spec.attr, parsed)
        return True

    def event(self, program: Program, owner_id: int) -> Event:
        values = dict(program.event)
        file_id = values.pop("id", None)
        raw_timezone = values.get("timezone")
        try:
            timezone, mapped = iana_timezone(raw_timezone)
        except UnknownTimezone as exc:
            raise ImportFailed(str(exc), file="event", key="timezone") from None
        if mapped:
            self.report.repaired("event", file_id, f"timezone {raw_timezone!r} read as {timezone}")
        values["timezone"] = timezone
        for key in EVENT_KEYS_NOT_TAKEN & values.keys():
            del values[key]
            self.report.ignored("event", key)
        ctx = FieldContext(tz=pytz.timezone(timezone))
        resource = RESOURCES["event"]
        event = Event()
        # What the event cannot be without fails the import; the rest is skipped and reported.
        for key, spec in resource.fields.items():
            if not spec.required:
                continue
            value = values.pop(key, None)
            try:
                setattr(event, spec.attr, spec.parse(value, ctx))
            except Invalid as exc:
                raise ImportFailed(f"required: {exc}", file="event", key=key) from None
            if isinstance(spec, DateTime) and _naive(value):
                self.naive_times["event"] += 1
        self.values(resource, event, values, ctx, "event", file_id)
        if event.ends_at <= event.starts_at:
            raise ImportFailed("the event ends before it starts", file="event", key="ends-at")
        self.dbsession.add(event)
        self.dbsession.add(EventRole(event=event, user_id=owner_id, role=Role.OWNER))
        self.report.counts["event"] = 1
        return event

    def program(self, program: Program, event: Event) -> dict[Record, Any]:
        """The rows of every collection, linked; returns them by record."""
        ctx = FieldContext(tz=event.tzinfo)
        rows: dict[Record, Any] = {}
        for collection, type_ in RESOURCE_TYPES.items():
            records = program.records.get(collection, [])
            resource = RESOURCES.get(type_)
            if resource is None:
                for record in records:
                    self.report.skipped(collection, record.id, "not stored by openevent")
                continue
            for record in records:
                row = resource.model(event=event)
                if self.values(resource, row, record.values, ctx, collection, record.id):
                    rows[record] = row
                else:
                    missing = [k for k, f in resource.fields.items() if f.required]
                    self.report.skipped(
                        collection, record.id, f"no valid {' or '.join(missing)}: not imported"
                    )
            self.report.counts[collection] = sum(1 for r in records if r in rows)
        self._link(program, rows)
        for session in program.records.get("sessions", []):
            row = rows.get(session)
            if row is not None and row.starts_at and row.ends_at and row.ends_at <= row.starts_at:
                self.report.skipped(
                    "sessions", session.id, "ends before it starts: imported unscheduled"
                )
                row.starts_at = row.ends_at = None
        self.dbsession.add_all(rows.values())
        for file, count in sorted(self.naive_times.items()):
            self.report.warning(
                file, None, f"{count} times without a UTC offset read in {event.timezone}"
            )
        return rows

    def _link(self, program: Program, rows: dict[Record, Any]) -> None:
        for session, speakers in program.speakers.items():
            row = rows.get(session)
            if row is not None:
                row.speakers = [rows[s] for s in speakers if s in rows]
        for links, attr in (
            (program.track, "track"),
            (program.microlocation, "microlocation"),
            (program.session_type, "session_type"),
        ):
            for session, target in links.items():
                row, target_row = rows.get(session), rows.get(target)
                if row is not None and target_row is not None and hasattr(row, attr):
                    setattr(row, attr, target_row)
