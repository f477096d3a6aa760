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

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytz
from sqlalchemy import func, insert, select
from zope.sqlalchemy import mark_changed

from openevent import changes, open_event_format
from openevent.api.fields import (
    Choice,
    DateTime,
    Duration,
    Field,
    FieldContext,
    Html,
    Invalid,
    String,
    Url,
)
from openevent.api.resources import RESOURCES, Resource
from openevent.db import utcnow
from openevent.importer.media import is_absolute_url
from openevent.importer.normalize import Program, Record, dasherize
from openevent.importer.report import ImportFailed, Report
from openevent.importer.timezones import UnknownTimezone, iana_timezone
from openevent.models import Event, EventRole, Role, Session, Speaker, session_speakers
from openevent.previews import abstract_preview

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
# Every resource type an import writes rows of in bulk.
IMPORTED_TYPES = (*RESOURCE_TYPES.values(), "social-link")
# Collection -> its file's name in openevent.open_event_format (the one description of the
# format that exports write and this importer reads).
FORMAT_FILES = {"session-types": "session_types"}


@functools.cache
def _api_names(type_: str) -> dict[str, str]:
    """Model attribute -> the API's name for it, for the fields of resource ``type_``."""
    resource = RESOURCES.get(type_)
    if resource is None:
        return {}
    return {spec.attr: name for name, spec in resource.fields.items() if spec.attr}


@functools.cache
def _file_part(file: str) -> open_event_format.Part | None:
    """The description of ``file``'s own rows (not of those nested in them), if it has one."""
    return next((p for p in open_event_format.FILES if p.file == file and not p.path), None)


@functools.cache
def _translated_keys(file: str, type_: str) -> frozenset[str]:
    """The keys of ``file`` that :func:`translate` does not keep as they are: stored under
    another name, holding other keys, or holding rows."""
    part = _file_part(file)
    names = _api_names(type_)
    return frozenset(
        key
        for key, described in part.by_name.items()
        if described.container
        or described.rows
        or (described.attribute in names and names[described.attribute] != key)
    )


def translate(file: str, type_: str, values: dict) -> tuple[dict, dict[str, list]]:
    """``values`` with Open Event's names turned into the API's where the format description
    stores a key under another name (``event-url``, ``event-copyright/holder``, a sponsor's
    ``type``), and the rows nested in it (the event's ``social-links``) by part name."""
    part = _file_part(file)
    if part is None or values.keys().isdisjoint(_translated_keys(file, type_)):
        return values, {}  # most records: every key is the API's name already
    described_keys = part.by_name
    names = _api_names(type_)
    out: dict = {}
    nested: dict[str, list] = {}
    for key, value in values.items():
        described = described_keys.get(key)
        if described is None:
            out.setdefault(key, value)
        elif described.container and isinstance(value, dict):
            for inner, inner_value in value.items():
                path = f"{key}/{inner}"
                inner_key = described_keys.get(f"{key}/{dasherize(inner)}")
                out[names.get(inner_key and inner_key.attribute, path)] = inner_value
        elif described.rows:
            nested[described.rows] = value if isinstance(value, list) else []
        elif described.attribute in names:
            # The API's name wins over an alias that says the same (event-url, external-...).
            name = names[described.attribute]
            if name not in out or key == name:
                out[name] = value
        else:
            out.setdefault(key, value)
    return out, nested


# Keys that are openevent's own business on import: a new event gets a new identifier and starts
# out as a draft for its new team to check, whatever the file says.
EVENT_KEYS_NOT_TAKEN = {"identifier", "state"}


_DOTTED = re.compile(r"[0-9]{1,2}\.[0-5][0-9]")


def _naive(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        return False


def _text_cleaning(spec: Field) -> Callable[[str], str] | None:
    """How a text for ``spec`` is tidied before it is parsed: a choice in any case and
    spacing, other plain text without surrounding spaces; HTML as it is."""
    if isinstance(spec, Choice):
        return lambda text: text.strip().lower()
    if isinstance(spec, String) and not isinstance(spec, Html):
        return str.strip
    return None


@dataclass(frozen=True, slots=True)
class _Step:
    """How an import reads the value of one key into its field ``spec``."""

    spec: Field
    clean_text: Callable[[str], str] | None  # tidies a text before it is parsed
    duration: bool  # a length of time: "01.30" is read as "01:30"
    time: bool  # a time: those without an offset are counted
    url: bool  # a URL: it may name a file of the archive (openevent.importer.media)
    trash: bool  # deleted-at: a trashed record is trashed here too; None says nothing

    @classmethod
    def of(cls, key: str, spec: Field) -> "_Step":
        trash = key == "deleted-at"
        if trash:
            spec = DateTime(attr="deleted_at")
        return cls(
            spec=spec,
            clean_text=_text_cleaning(spec),
            duration=isinstance(spec, Duration),
            time=isinstance(spec, DateTime),
            url=isinstance(spec, Url),
            trash=trash,
        )


class Loader:
    def __init__(self, dbsession, report: Report, media=None):
        self.dbsession = dbsession
        self.report = report
        # Where relative URLs (files of the archive) go: openevent.importer.media.
        self.media = media
        self._inserted: dict[type, list[dict]] = {}  # model -> its inserted rows, ids included
        self.nested: dict[str, list] = {}  # rows nested in the event's file, by part
        self.naive_times: Counter = Counter()  # file -> values read in the event's timezone
        self._steps_by_type: dict[str, dict[str, _Step]] = {}  # resource type -> key -> step
        self._required_by_type: dict[str, frozenset[str]] = {}  # resource type -> attributes
        self._largest_ids: dict[str, int] | None = None  # table -> largest id taken (SQLite)

    def values(self, resource: Resource, obj: dict, record_values: dict, ctx, file, id_) -> bool:
        """Fill ``obj`` (attribute -> value) from ``record_values``; False if a required one
        failed."""
        steps = self._steps(resource)
        for key, value in record_values.items():
            step = steps.get(key)
            if step is None:
                self.report.ignored(file, key)
                continue
            spec = step.spec
            if step.trash:  # trashed in the exporting server: trashed here too
                if value not in (None, ""):
                    self._set(step, obj, key, value, ctx, file, id_)
                continue
            if value is None or value == "":  # most values of real exports: first
                if spec.nullable:
                    obj[spec.attr] = None  # exports write "" for "none"
                    continue
            else:
                if type(value) is str:
                    if step.duration and _DOTTED.fullmatch(value):
                        # PyCon 2017 writes a session type's length "01.30": one clear reading.
                        self.report.repaired(
                            file, id_, f"{key}: {value!r} read as {value.replace('.', ':')!r}"
                        )
                        value = value.replace(".", ":")
                    if step.clean_text is not None:
                        value = step.clean_text(value)
                # It may name a file of the archive.
                if step.url and self.media is not None and not is_absolute_url(value):
                    value = self.media.resolve(resource.type, file, id_, key, spec, value)
                if (value is None or value == "") and spec.nullable:
                    obj[spec.attr] = None  # a text of spaces, a file the archive lacks
                    continue
            if not self._set(step, obj, key, value, ctx, file, id_) and spec.required:
                return False
        # A record without a key it cannot be without is as bad as one with a wrong value.
        return self._required(resource) <= obj.keys()

    def _required(self, resource: Resource) -> frozenset[str]:
        """The attributes a row of ``resource`` must be given (found once per resource)."""
        found = self._required_by_type.get(resource.type)
        if found is None:
            found = self._required_by_type[resource.type] = frozenset(
                step.spec.attr for step in self._steps(resource).values() if step.spec.required
            )
        return found

    def _steps(self, resource: Resource) -> dict[str, _Step]:
        """How each field of ``resource`` an import sets (those a client could write) reads
        its value; found once per resource, as every value looks them up."""
        found = self._steps_by_type.get(resource.type)
        if found is None:
            found = self._steps_by_type[resource.type] = {
                name: _Step.of(name, spec)
                for name, spec in resource.fields.items()
                if not spec.read_only and not hasattr(spec, "compute")
            }
        return found

    def _set(self, step: _Step, obj, key, value, ctx, file, id_) -> bool:
        spec = step.spec
        try:
            parsed = spec.parse(value, ctx)
        except Invalid as exc:
            if not spec.required:
                self.report.skipped(file, id_, f"{key}: {exc}; left empty")
            return False
        if step.time and _naive(value):
            self.naive_times[file] += 1
        obj[spec.attr] = parsed
        return True

    def event(self, program: Program, owner_id: int) -> Event:
        values, self.nested = translate("event", "event", dict(program.event))
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
        event_values = {}
        # What the event cannot be without fails the import; the rest is skipped and reported.
        for key, spec in resource.fields.items():
            if not spec.required:
                continue
            value = values.pop(key, None)
            try:
                event_values[spec.attr] = spec.parse(value, ctx)
            except Invalid as exc:
                raise ImportFailed(f"required: {exc}", file="event", key=key) from None
            if isinstance(spec, DateTime) and _naive(value):
                self.naive_times["event"] += 1
        self.values(resource, event_values, values, ctx, "event", file_id)
        event = Event(**event_values)
        if event.ends_at <= event.starts_at:
            raise ImportFailed("the event ends before it starts", file="event", key="ends-at")
        self.dbsession.add(event)
        self.dbsession.add(EventRole(event=event, user_id=owner_id, role=Role.OWNER))
        self.report.counts["event"] = 1
        return event

    def program(self, program: Program, event: Event) -> dict[Record, int]:
        """Insert the rows of every collection, linked; returns their ids by record.

        Rows go in with one bulk ``INSERT`` per table (thousands of ORM objects would cost
        several times more) and are reported to the change machinery as created
        (:func:`openevent.changes.record_insert`), so plugins hear of them as of any others.
        """
        self.dbsession.flush()  # the event's id
        ctx = FieldContext(tz=event.tzinfo)
        now = utcnow()
        ids: dict[Record, int] = {}
        for collection, type_ in RESOURCE_TYPES.items():
            records = program.records.get(collection, [])
            resource = RESOURCES.get(type_)
            if resource is None:
                for record in records:
                    self.report.skipped(collection, record.id, "not stored by openevent")
                continue
            model = resource.model
            columns = model.__table__.c
            kept, rows = [], []
            file = FORMAT_FILES.get(collection, collection)
            for record in records:
                row = {"event_id": event.id}
                record_values, _ = translate(file, type_, record.values)
                if not self.values(resource, row, record_values, ctx, collection, record.id):
                    self._not_imported(resource, collection, record.id)
                    continue
                if collection == "sessions":
                    self._session_links(program, record, row, ids, columns)
                kept.append(record)
                rows.append(row)
            self._insert(model, rows, collection, now)
            ids.update(zip(kept, (row["id"] for row in rows), strict=True))
        self._insert_social_links(event, ctx, now)
        self._insert_speakers_of_sessions(program, ids)
        for model, rows in self._inserted.items():
            changes.record_insert(self.dbsession, model, rows)
        mark_changed(self.dbsession)
        for file, count in sorted(self.naive_times.items()):
            self.report.warning(
                file, None, f"{count} times without a UTC offset read in {event.timezone}"
            )
        return ids

    def _insert_social_links(self, event, ctx, now) -> None:
        """The event's ``social-links``, rows of their own nested in its file."""
        items = self.nested.get("event/social-links", [])
        resource = RESOURCES.get("social-link")
        if not items or resource is None:
            return
        file, rows = "event/social-links", []
        for position, item in enumerate(items):
            if not isinstance(item, dict):
                self.report.skipped(file, None, f"entry {position} is not a JSON object")
                continue
            values = {dasherize(k): v for k, v in item.items() if k != "id"}
            row = {"event_id": event.id}
            if self.values(resource, row, values, ctx, file, item.get("id", position)):
                rows.append(row)
            else:
                self._not_imported(resource, file, item.get("id", position))
        self._insert(resource.model, rows, "social-links", now)

    def _not_imported(self, resource, file: str, id_) -> None:
        required = " or ".join(name for name, spec in resource.fields.items() if spec.required)
        self.report.skipped(file, id_, f"no valid {required}: not imported")

    def _insert(self, model, rows: list[dict], collection: str, now) -> None:
        """Insert ``rows`` of ``model`` in one statement, giving each its ``id`` and timestamps;
        they are counted on the report and reported as created at the end."""
        self.report.counts[collection] = len(rows)
        if not rows:
            return
        columns = model.__table__.c
        for row, new_id in zip(rows, self._new_ids(model, len(rows)), strict=True):
            row["id"] = new_id
            for column in ("created_at", "last_modified_at"):
                if column in columns:
                    row[column] = now
        _same_keys(rows, columns)
        # Core, not the ORM's bulk insert: that one leaves out each row's None values,
        # splitting the rows into as many statements as there are patterns of them.
        self.dbsession.execute(insert(model.__table__), rows)
        self._inserted[model] = rows

    def _new_ids(self, model, count: int) -> list[int]:
        """``count`` ids for new rows of ``model``, taken before the insert.

        ``INSERT ... RETURNING`` of many rows cannot say which id went to which row on SQLite,
        which SQLAlchemy then inserts one at a time; with ids known beforehand one batched
        INSERT does. PostgreSQL hands them out from the table's sequence; on SQLite the
        transaction holds the database's only write lock, so the ids after the largest are free
        (read for every table the import writes in one statement, the first time).
        """
        table = model.__table__
        if self.dbsession.get_bind().dialect.name == "postgresql":
            sequence = func.pg_get_serial_sequence(table.name, "id")
            numbers = func.generate_series(1, count).table_valued("n")
            return list(self.dbsession.scalars(select(func.nextval(sequence)).select_from(numbers)))
        if self._largest_ids is None:
            tables = [RESOURCES[t].model.__table__ for t in IMPORTED_TYPES if t in RESOURCES]
            largest = self.dbsession.execute(
                select(*(select(func.max(t.c.id)).scalar_subquery() for t in tables))
            ).one()
            self._largest_ids = {t.name: n or 0 for t, n in zip(tables, largest, strict=True)}
        first = self._largest_ids[table.name] + 1
        self._largest_ids[table.name] += count
        return list(range(first, first + count))

    def _session_links(self, program, record, row, ids, columns) -> None:
        """A session's to-one links, its abstract preview, and times that make sense."""
        for links, column in (
            (program.track, "track_id"),
            (program.microlocation, "microlocation_id"),
            (program.session_type, "session_type_id"),
        ):
            target = links.get(record)
            if target is not None and target in ids and column in columns:
                row[column] = ids[target]
        # Bulk inserts bypass the ORM hook that stores it (openevent.models.program).
        row["abstract_preview"] = abstract_preview(
            row.get("short_abstract"), row.get("long_abstract"), sanitized=True
        )
        starts, ends = row.get("starts_at"), row.get("ends_at")
        if starts is not None and ends is not None and ends <= starts:
            self.report.skipped(
                "sessions", record.id, "ends before it starts: imported unscheduled"
            )
            row["starts_at"] = row["ends_at"] = None

    def _insert_speakers_of_sessions(self, program, ids) -> None:
        pairs = sorted(
            {
                (ids[session], ids[speaker])
                for session, speakers in program.speakers.items()
                if session in ids
                for speaker in speakers
                if speaker in ids
            }
        )
        if pairs:
            self.dbsession.execute(
                insert(session_speakers),
                [{"session_id": a, "speaker_id": b} for a, b in pairs],
            )
        # Reported with the rows they link, as the ORM reports links of new rows.
        by_session: dict[int, list[int]] = {}
        by_speaker: dict[int, list[int]] = {}
        for session_id, speaker_id in pairs:
            by_session.setdefault(session_id, []).append(speaker_id)
            by_speaker.setdefault(speaker_id, []).append(session_id)
        for model, linked, key in (
            (Session, by_session, "speakers"),
            (Speaker, by_speaker, "sessions"),
        ):
            for row in self._inserted.get(model, []):
                if row["id"] in linked:
                    row[key] = tuple(linked[row["id"]])


def _same_keys(rows: list[dict], columns) -> None:
    """Give every row the same keys, the columns' defaults where a row had none: rows with
    different keys would go in as many small batches as there are sets of keys."""
    keys = set().union(*rows)
    defaults = {}
    for key in keys:
        default = columns[key].default if key in columns else None
        if default is None:
            defaults[key] = None
        elif default.is_scalar:
            defaults[key] = default.arg
        else:  # a function of no context (utcnow): called once for the batch
            defaults[key] = default.arg(None) if default.is_callable else None
    for row in rows:
        for key in keys - row.keys():
            row[key] = defaults[key]
