"""From an archive's JSON files to records with clean keys, unique identities and resolved links.

Real exports are messy (see docs/import.md). This stage reads every dialect into one shape and
repairs what has one clear repair, reporting each repair and skip on the :class:`Report`:

- keys: dasherized (``start_time`` and ``start-time`` are ``starts-at``), older names mapped;
- ids: identical copies of a record are dropped; records that share an id but are not the same
  thing (two people) are kept apart, and links to that id pick the one whose name or title the
  link carries; copies of one thing that differ (a session listed twice, once without its
  speakers) are merged;
- links: a speaker-session link listed on one side only is kept; links to ``null`` or to ids
  the file does not hold are skipped; a track that lists a session the session does not name
  gives the session that track;
- a session without a title is titled from its id.

Values are not parsed here: the loader validates them with the API's own fields.
"""

import functools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson

from openevent.importer.archive import Archive, ArchiveRefused
from openevent.importer.report import ImportFailed, Report

# File name (as exported, without .json) -> collection.
COLLECTION_FILES = {
    "event": "event",
    "sessions": "sessions",
    "speakers": "speakers",
    "tracks": "tracks",
    "microlocations": "microlocations",
    "session_types": "session-types",
    "session-types": "session-types",
    "sponsors": "sponsors",
}
# Files of Open Event exports that hold nothing openevent stores, and why.
NOT_IMPORTED_FILES = {
    "forms": "custom form definitions (which fields a call for speakers asks) are not stored",
    "meta": "the exporting server's root URL is not needed",
}
# Older key names (after dasherizing) -> today's.
OLD_NAMES = {
    "start-time": "starts-at",
    "end-time": "ends-at",
    "start-at": "starts-at",
    "end-at": "ends-at",
    "created-time": "created-at",
    "photo": "photo-url",
    "logo": "logo-url",
    "background-image": "original-image-url",
    "background-url": "original-image-url",
    "slides": "slides-url",
    "video": "video-url",
    "audio": "audio-url",
    "organization": "organisation",
}


@dataclass(frozen=True)
class LinkSpec:
    """``collection[key]`` links to ``target`` records (``many``: a list of them)."""

    collection: str
    key: str
    target: str
    many: bool


LINKS = (
    LinkSpec("sessions", "speakers", "speakers", True),
    LinkSpec("sessions", "track", "tracks", False),
    LinkSpec("sessions", "microlocation", "microlocations", False),
    LinkSpec("sessions", "session-type", "session-types", False),
    LinkSpec("speakers", "sessions", "sessions", True),
    LinkSpec("tracks", "sessions", "sessions", True),
    LinkSpec("microlocations", "sessions", "sessions", True),
)
# What tells two records under one id apart, per collection.
LABEL_KEYS = {"sessions": ("title", "starts-at"), "speakers": ("name",)}


@functools.lru_cache(maxsize=4096)  # a file repeats its few keys thousands of times
def dasherize(key: str) -> str:
    name = key.strip().replace("_", "-").lower()
    return OLD_NAMES.get(name, name)


class Ref:
    """A link as a file writes it: the target's id, its name or title when given, and the
    object it was given as, with what else it carries (sessions carry whole session types).
    Two links are equal when their id and label are. A plain class with slots: an import makes
    one per link, and a frozen dataclass's ``__init__`` costs three times as much."""

    __slots__ = ("embedded", "id", "label")

    def __init__(self, id: str, label: str | None, embedded: dict | None = None):
        self.id, self.label, self.embedded = id, label, embedded

    def __eq__(self, other) -> bool:
        if not isinstance(other, Ref):
            return NotImplemented
        return self.id == other.id and self.label == other.label

    def __hash__(self) -> int:
        return hash((self.id, self.label))

    def __repr__(self) -> str:
        return f"Ref({self.id!r}, {self.label!r})"


@dataclass(eq=False)
class Record:
    collection: str
    id: str  # as the file gives it, as a string (files mix 3 and "3")
    values: dict[str, Any]  # dasherized keys, without the id and the links
    refs: dict[str, list[Ref]] = field(default_factory=dict)  # link key -> refs, as given

    @property
    def file(self) -> str:
        return self.collection

    def label(self) -> tuple:
        keys = LABEL_KEYS.get(self.collection, ("name",))
        return tuple(_folded(self.values.get(key)) for key in keys)


@dataclass
class Program:
    """An export's content, ready to load."""

    event: dict[str, Any]
    records: dict[str, list[Record]]  # collection -> records, one per thing
    # Resolved links, by record.
    speakers: dict[Record, list[Record]] = field(default_factory=dict)  # session -> speakers
    track: dict[Record, Record] = field(default_factory=dict)  # session -> track
    microlocation: dict[Record, Record] = field(default_factory=dict)
    session_type: dict[Record, Record] = field(default_factory=dict)


def _folded(value) -> str | None:
    return " ".join(value.split()).casefold() if isinstance(value, str) else value


def _as_id(value) -> str | None:
    if type(value) is int:  # not a bool
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _parse_json(archive: Archive, member: str, file: str):
    if archive.sizes[member] > archive.limits.max_json_bytes:
        raise ImportFailed(
            f"larger than {archive.limits.max_json_bytes} bytes, the limit of a collection file",
            file=file,
        )
    try:
        return orjson.loads(archive.read(member).removeprefix(b"\xef\xbb\xbf"))  # a BOM
    except json.JSONDecodeError as exc:  # orjson's errors are these too
        raise ImportFailed(
            f"not valid JSON: {exc.msg}",
            file=file,
            position=f"line {exc.lineno} column {exc.colno}",
        ) from None
    except RecursionError:
        raise ImportFailed("JSON nested too deeply", file=file) from None
    except ArchiveRefused as exc:
        raise ImportFailed(exc.reason, file=file) from None


def read_program(archive: Archive, report: Report) -> Program:
    """The archive's collections as a :class:`Program`; repairs and skips go to ``report``."""
    found = archive.collections()
    if "event" not in found:
        raise ImportFailed("the archive has no event file (an Open Event export has one)")
    records: dict[str, list[Record]] = defaultdict(list)
    event = None
    for name, member in sorted(found.items()):
        collection = COLLECTION_FILES.get(name)
        if collection is None:
            why = NOT_IMPORTED_FILES.get(name, "not a collection openevent knows")
            report.warning(name, None, f"file not imported: {why}")
            continue
        try:
            data = _parse_json(archive, member, name)
        except ImportFailed as exc:
            if collection == "event":
                raise
            report.skipped(name, None, f"whole file skipped: {exc}")
            continue
        if collection == "event":
            event = _event(data, name)
            continue
        if not isinstance(data, list):
            report.skipped(name, None, "whole file skipped: expected a JSON list of records")
            continue
        records[collection].extend(_records(data, collection, name, report))
    program = Program(event=event, records={})
    for collection, found_records in records.items():
        program.records[collection] = _one_per_thing(found_records, report)
    for collection in COLLECTION_FILES.values():
        program.records.setdefault(collection, [])
    program.records.pop("event", None)
    _resolve(program, report)
    _title_untitled(program, report)
    return program


def _event(data, file: str) -> dict[str, Any]:
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict):
        raise ImportFailed("expected a JSON object describing the event", file=file)
    return {dasherize(key): value for key, value in data.items() if isinstance(key, str)}


def _records(data: list, collection: str, file: str, report: Report):
    links = {spec.key for spec in LINKS if spec.collection == collection}
    last_keys, names = None, []
    for position, item in enumerate(data):
        if not isinstance(item, dict):
            report.skipped(file, None, f"entry {position} is not a JSON object")
            continue
        keys = tuple(item)
        if keys != last_keys:  # the records of a file mostly have the same keys, in one order
            last_keys, names = keys, [dasherize(key) for key in keys]
        values = dict(zip(names, item.values(), strict=True))
        id_ = _as_id(values.pop("id", None))
        if id_ is None:
            report.skipped(file, None, f"entry {position} has no usable id")
            continue
        refs = {}
        for key in links & values.keys():
            refs[key] = _refs(values.pop(key), key, file, id_, report)
        yield Record(collection, id_, values, refs)


def _refs(value, key: str, file: str, id_: str, report: Report) -> list[Ref]:
    items = value if isinstance(value, list) else [value]
    refs = []
    for item in items:
        if isinstance(item, dict):
            target = _as_id(item.get("id"))
            label = item.get("name", item.get("title"))
            label = label if isinstance(label, str) else None
            embedded = item  # dasherized only if ever needed (see _resolve)
        else:
            target, label, embedded = _as_id(item), None, None
        if target is None:
            # {} and null are how exports say "none": not worth a report line.
            if item not in ({}, None, []):
                report.skipped(file, id_, f"{key}: a link without a usable id")
            continue
        refs.append(Ref(target, label, embedded))
    return refs


def _one_per_thing(records: list[Record], report: Report) -> list[Record]:
    """Identical copies dropped, copies of one thing merged, different things kept apart."""
    by_id: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_id[record.id].append(record)
    kept = []
    for id_, group in by_id.items():
        if len(group) == 1:
            kept.append(group[0])
            continue
        file = group[0].file
        distinct: list[Record] = []
        for record in group:
            twin = next((r for r in distinct if r.label() == record.label()), None)
            if twin is None:
                distinct.append(record)
            elif (twin.values, twin.refs) == (record.values, record.refs):
                report.repaired(file, id_, "an identical copy of the record dropped")
            else:
                _merge(twin, record)
                report.repaired(file, id_, "two differing copies of one record merged")
        if len(distinct) > 1:
            names = ", ".join(repr(r.label()[0]) for r in distinct)
            report.repaired(
                file,
                id_,
                f"{len(distinct)} different records share this id ({names}): each imported, "
                "links to the id resolved by the name or title they carry",
            )
        kept.extend(distinct)
    return kept


def _merge(into: Record, other: Record) -> None:
    for key, value in other.values.items():
        if into.values.get(key) in (None, "", [], {}):
            into.values[key] = value
    for key, refs in other.refs.items():
        present = into.refs.setdefault(key, [])
        present.extend(ref for ref in refs if ref not in present)


def _resolve(program: Program, report: Report) -> None:
    index: dict[str, dict[str, list[Record]]] = {
        collection: defaultdict(list) for collection in program.records
    }
    for collection, records in program.records.items():
        for record in records:
            index[collection][record.id].append(record)

    def target(spec: LinkSpec, record: Record, ref: Ref) -> Record | None:
        candidates = index.get(spec.target, {}).get(ref.id, [])
        if not candidates and ref.embedded and (ref.label or "").strip() and spec.many is False:
            # Known only from the sessions that use it (FOSSASIA's session types, which have no
            # file): made from what they carry, once. Never a session from a bare title.
            values = {dasherize(k): v for k, v in ref.embedded.items() if k != "id"}
            made = Record(spec.target, ref.id, values)
            program.records[spec.target].append(made)
            index[spec.target][ref.id].append(made)
            report.repaired(
                spec.target,
                ref.id,
                f"not in the {spec.target} file but carried whole by the links of "
                f"{record.collection}: made from them",
            )
            return made
        if not candidates:
            report.skipped(
                record.file, record.id, f"{spec.key}: links to id {ref.id}, not in {spec.target}"
            )
            return None
        if len(candidates) > 1 and ref.label is not None:
            named = [c for c in candidates if c.label()[0] == _folded(ref.label)]
            if len(named) == 1:
                return named[0]
        if len(candidates) > 1:
            report.warning(
                record.file,
                record.id,
                f"{spec.key}: id {ref.id} names {len(candidates)} records; linked to the first",
            )
        return candidates[0]

    # Speakers of sessions: both sides' lists together.
    from_sessions, from_speakers = set(), set()
    for session in program.records["sessions"]:
        for ref in session.refs.get("speakers", []):
            speaker = target(LINKS[0], session, ref)
            if speaker is not None:
                from_sessions.add((session, speaker))
    for speaker in program.records["speakers"]:
        for ref in speaker.refs.get("sessions", []):
            session = target(LINKS[4], speaker, ref)
            if session is not None:
                from_speakers.add((session, speaker))
    for session, speaker in sorted(from_sessions ^ from_speakers, key=_pair_order):
        side = "session" if (session, speaker) in from_sessions else "speaker"
        report.repaired(
            "sessions" if side == "session" else "speakers",
            session.id if side == "session" else speaker.id,
            f"speaker {speaker.id} - session {session.id}: listed by the {side} only; kept",
        )
    for session, speaker in sorted(from_sessions | from_speakers, key=_pair_order):
        program.speakers.setdefault(session, []).append(speaker)

    # To-one links of sessions, then what tracks and rooms say of their sessions.
    for spec, links in (
        (LINKS[1], program.track),
        (LINKS[2], program.microlocation),
        (LINKS[3], program.session_type),
    ):
        for session in program.records["sessions"]:
            refs = session.refs.get(spec.key, [])
            if refs:
                found = target(spec, session, refs[0])
                if found is not None:
                    links[session] = found
    for spec, links in ((LINKS[5], program.track), (LINKS[6], program.microlocation)):
        for owner in program.records[spec.collection]:
            for ref in owner.refs.get("sessions", []):
                session = target(spec, owner, ref)
                if session is None or links.get(session) is owner:
                    continue
                if session not in links:
                    links[session] = owner
                    report.repaired(
                        spec.collection,
                        owner.id,
                        f"lists session {session.id}, which names no "
                        f"{spec.collection[:-1]}; linked",
                    )
                else:
                    report.warning(
                        spec.collection,
                        owner.id,
                        f"lists session {session.id}, which names another; the session's kept",
                    )


def _pair_order(pair: tuple[Record, Record]):
    session, speaker = pair
    return (session.id, speaker.id, id(session), id(speaker))


def _title_untitled(program: Program, report: Report) -> None:
    for session in program.records["sessions"]:
        title = session.values.get("title")
        if not isinstance(title, str) or not title.strip():
            session.values["title"] = f"Untitled session {session.id}"
            report.repaired("sessions", session.id, "no title: titled from its id")
