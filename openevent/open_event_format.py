"""Open Event's export format, key by key: where each key of each file goes in openevent.

An Open Event export is a zip with one JSON file per collection (``event``, ``sessions``,
``speakers``, ``tracks``, ``microlocations``, ``session_types``, ``sponsors``, and ``forms`` and
``meta`` in some), keys dasherized. :data:`FILES` names, for every key found in the real exports
of ``shared/samples/open-event`` (FOSSASIA Summit 2017, PyCon 2017), the model attribute it is
stored in, or that it is deliberately not stored and why. Exports write and imports read through
this one description, so the two directions cannot drift apart, and an importer reports every
key it does not store instead of dropping it silently. ``docs/data-model.md`` shows the same
tables (a test keeps them equal).

Keys are paths: ``event-copyright/holder`` is ``holder`` inside the ``event-copyright`` object.
A list of rows inside a file (the event's ``social-links``) is a :class:`Part` of its own, with
its own model. Older exports spell some keys differently (``event-url``, ``event_ver``): those
spellings are a key's ``aliases``. Open Event writes ``""`` for most values not given (an
empty biography, no twitter account): that is no value, as null is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from openevent.models import (
    Event,
    Microlocation,
    Session,
    SessionType,
    SocialLink,
    Speaker,
    Sponsor,
    Track,
)


@dataclass(frozen=True)
class Key:
    """One key of an Open Event file.

    ``attribute`` is the model attribute (a column or a relationship) the value is stored in;
    ``note`` says how the value converts, or why it is not stored. A key with no attribute is
    still stored when it is one of these:

    - ``copies``: an object, or list of objects, of another file repeated here (a session's
      ``track``): its ids make links, which the other side may hold; the rest is read from
      that other file;
    - ``rows``: a list of rows of their own, described by the part of that name
      (``event/social-links``);
    - ``container``: an object whose keys are listed, each with its own attribute
      (``event-copyright``).

    Any other key without an attribute is not stored: an importer reports it.
    """

    key: str
    attribute: str | None
    note: str = ""
    aliases: tuple[str, ...] = ()
    copies: bool = False
    rows: str = ""
    container: bool = False

    @property
    def stored(self) -> bool:
        return bool(self.attribute or self.copies or self.rows or self.container)

    @property
    def target(self) -> str:
        """Where the value goes, in words: an attribute, the rows of a part, or "-"."""
        if self.attribute:
            return self.attribute
        if self.rows:
            return f"rows of {self.rows}"
        if self.copies:
            return "links, held by the other side"
        if self.container:
            return "its keys, below"
        return "-"


@dataclass(frozen=True)
class Part:
    """The rows of one file (``path`` empty), or a list of rows nested in it, and their model."""

    file: str
    path: str
    model: type
    keys: tuple[Key, ...]
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.file}/{self.path}" if self.path else self.file

    def key(self, name: str) -> Key:
        """The key ``name``, or the one it is an alias of; KeyError if neither."""
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"{self.name} has no key {name!r}") from None

    @functools.cached_property
    def by_name(self) -> dict[str, Key]:
        """Each key by its name and by its aliases: an import looks up every key it reads."""
        names: dict[str, Key] = {}
        for key in self.keys:
            for name in (key.key, *key.aliases):
                names.setdefault(name, key)
        return names

    def attributes(self) -> dict[str, str]:
        """Open Event key -> model attribute, for the keys stored in one."""
        return {key.key: key.attribute for key in self.keys if key.attribute}

    def not_stored(self) -> dict[str, str]:
        """Open Event key -> why it is not stored."""
        return {key.key: key.note for key in self.keys if not key.stored}


def _same(*names: str) -> tuple[Key, ...]:
    """Keys stored under their own name, dashes as underscores."""
    return tuple(Key(name, name.replace("-", "_")) for name in names)


_SOURCE_ID = Key(
    "id", None, "the exporting server's id: links rows within the export, openevent gives its own"
)
_HTML = "HTML, sanitized as the API sanitizes it"
_RELATIVE = "a relative path (PyCon 2017) names a media file, found under meta's root-url"
_RESIZED = (
    "a resized copy of the original picture: the openevent-images plugin makes its own from "
    "the original (its column is filled by that job, never from a file)"
)
_CALL_FOR_SPEAKERS = "an answer to Open Event's call for speakers, which openevent does not run"

FILES: tuple[Part, ...] = (
    Part(
        "event",
        "",
        Event,
        (
            _SOURCE_ID,
            Key("identifier", "identifier", "kept unless another event holds it"),
            *_same("name"),
            Key("description", "description", _HTML),
            *_same("starts-at", "ends-at", "timezone"),
            Key("state", "state", '"Published" or "Draft", in any case'),
            Key("type", "event_type", "the event type of that name"),
            Key("topic", None, "Open Event's topic taxonomy; openevent has event types only"),
            Key("sub-topic", None, "Open Event's topic taxonomy; openevent has event types only"),
            *_same("location-name"),
            Key(
                "searchable-location-name",
                None,
                "derived by Open Event from the location, for its search",
            ),
            *_same("latitude", "longitude"),
            Key("logo-url", "logo_url", _RELATIVE),
            Key("original-image-url", "original_image_url", _RELATIVE),
            Key("large-image-url", None, _RESIZED),
            Key("thumbnail-image-url", None, _RESIZED),
            Key("placeholder-url", None, "Open Event's stock picture for its topic"),
            Key("email", "email", "the event's public contact address"),
            *_same("organizer-name"),
            Key("organizer-description", "organizer_description", _HTML),
            Key("code-of-conduct", "code_of_conduct", _HTML),
            Key("external-event-url", "external_event_url", aliases=("event-url",)),
            *_same("ticket-url"),
            Key("privacy", "privacy", '"public" or "private"'),
            *_same("schedule-published-on"),
            Key(
                "is-sessions-speakers-enabled",
                None,
                "turns on Open Event's call for speakers, which openevent does not run",
            ),
            Key(
                "speakers-call",
                None,
                "Open Event's call for speakers, which openevent does not run",
            ),
            Key("speakers-call/announcement", None, "part of speakers-call"),
            Key("speakers-call/starts-at", None, "part of speakers-call"),
            Key("speakers-call/ends-at", None, "part of speakers-call"),
            Key("speakers-call/privacy", None, "part of speakers-call"),
            Key("speakers-call/timezone", None, "part of speakers-call"),
            Key("event-copyright", None, "Open Event's copyright object", container=True),
            Key("event-copyright/holder", "copyright_holder"),
            Key("event-copyright/holder-url", "copyright_holder_url"),
            Key("event-copyright/licence", "copyright_licence"),
            Key("event-copyright/licence-url", "copyright_licence_url"),
            Key("event-copyright/logo-url", "copyright_logo_url"),
            Key("event-copyright/year", "copyright_year"),
            Key(
                "licence-details",
                None,
                "Open Event's description of the licence, looked up by the licence's name",
            ),
            Key("licence-details/name", None, "part of licence-details"),
            Key("licence-details/long-name", None, "part of licence-details"),
            Key("licence-details/description", None, "part of licence-details"),
            Key("licence-details/url", None, "part of licence-details"),
            Key("licence-details/logo-url", None, "part of licence-details"),
            Key("licence-details/compact-logo-url", None, "part of licence-details"),
            Key("social-links", None, "the event's links elsewhere", rows="event/social-links"),
            Key(
                "version",
                None,
                "Open Event's change counters per collection; the versions plugin keeps"
                " openevent's own",
            ),
            *(
                Key(
                    f"version/{name}-ver", None, "part of version", aliases=(f"version/{name}_ver",)
                )
                for name in (
                    "event",
                    "sessions",
                    "speakers",
                    "tracks",
                    "microlocations",
                    "sponsors",
                )
            ),
        ),
    ),
    Part(
        "event",
        "social-links",
        SocialLink,
        (_SOURCE_ID, *_same("name", "link")),
        "the event's pages elsewhere, in the export's order",
    ),
    Part(
        "sessions",
        "",
        Session,
        (
            _SOURCE_ID,
            *_same("title", "subtitle"),
            Key("short-abstract", "short_abstract", _HTML),
            Key("long-abstract", "long_abstract", _HTML),
            *_same("language", "level", "state", "starts-at", "ends-at"),
            *_same("slides-url", "video-url", "audio-url", "signup-url"),
            Key(
                "track",
                "track",
                "an object {id, name, color, font-color}: its id links the track",
                copies=True,
            ),
            Key(
                "microlocation",
                "microlocation",
                'an object {id, name}: its id (a number, or a string such as "15") links the room',
                copies=True,
            ),
            Key(
                "session-type",
                "session_type",
                "an object {id, name, length}, null or {}: links the type; without a"
                " session_types file (FOSSASIA 2017) the types are made from these",
                copies=True,
            ),
            Key(
                "speakers", "speakers", "speaker objects: their ids link the speakers", copies=True
            ),
            Key("comments", None, "the organizers' private notes on the proposal"),
            Key("submitted-at", None, "when the proposal was sent; empty in the samples"),
            Key("is-mail-sent", None, "Open Event's record that it mailed the speakers"),
            Key("created-at", "created_at", "empty in the samples: then the import time"),
            Key("deleted-at", "deleted_at", "empty: not in the trash"),
        ),
    ),
    Part(
        "speakers",
        "",
        Speaker,
        (
            _SOURCE_ID,
            *_same("name", "email"),
            Key("photo-url", "photo_url", _RELATIVE),
            *_same("organisation", "position", "country", "city"),
            Key("short-biography", "short_biography", _HTML),
            Key("long-biography", "long_biography", _HTML),
            *_same("is-featured", "website", "twitter", "facebook", "github", "linkedin"),
            Key(
                "sessions",
                "sessions",
                "objects {id, title, state}: their ids link the sessions",
                copies=True,
            ),
            Key("thumbnail-image-url", None, _RESIZED),
            Key("small-image-url", None, _RESIZED),
            Key("icon-image-url", None, _RESIZED),
            Key("gender", None, _CALL_FOR_SPEAKERS),
            Key("mobile", None, "a private phone number, " + _CALL_FOR_SPEAKERS),
            Key("heard-from", None, _CALL_FOR_SPEAKERS),
            Key("speaking-experience", None, _CALL_FOR_SPEAKERS),
            Key("sponsorship-required", None, _CALL_FOR_SPEAKERS),
        ),
    ),
    Part(
        "tracks",
        "",
        Track,
        (
            _SOURCE_ID,
            *_same("name", "color", "font-color"),
            Key("description", "description", _HTML),
            Key("location", None, "a track's place in Open Event's old model; null in the samples"),
            Key(
                "sessions",
                None,
                "objects {id, title}: the other side of each session's track",
                copies=True,
            ),
        ),
    ),
    Part(
        "microlocations",
        "",
        Microlocation,
        (_SOURCE_ID, *_same("name", "floor", "room", "latitude", "longitude")),
        "the rooms, in the organizers' order, which their position keeps",
    ),
    Part(
        "session_types",
        "",
        SessionType,
        (
            _SOURCE_ID,
            *_same("name"),
            Key("length", "length_minutes", '"HH:MM", or "HH.MM" in PyCon 2017, as minutes'),
        ),
    ),
    Part(
        "sponsors",
        "",
        Sponsor,
        (
            _SOURCE_ID,
            *_same("name", "url"),
            Key("type", "sponsor_type", "the heading the sponsor is shown under"),
            Key("description", "description", _HTML),
            Key("level", "level", 'a number, or a string of digits such as "3"'),
            Key("logo-url", "logo_url", _RELATIVE),
        ),
    ),
)

# Files with nothing openevent stores.
NOT_STORED_FILES: dict[str, str] = {
    "forms": "Open Event's settings of its call-for-speakers forms (which fields it asks for)",
    "meta": "root-url: where the export's relative media paths were served from",
}


def part(name: str) -> Part:
    """The part named ``file`` or ``file/path`` (``event/social-links``)."""
    for candidate in FILES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no part {name!r}")


def describe(file: str, path: str) -> tuple[Part, Key]:
    """The part and key that describe the value at ``path`` of ``file``.

    ``path`` joins keys with ``/`` and leaves out list positions: ``social-links/name`` in
    ``event`` is the name of any of the event's social links. Keys inside a key that
    ``copies`` another file's rows are described by that key. KeyError for a key not known.
    """
    parts = [p for p in FILES if p.file == file and (not p.path or path.startswith(f"{p.path}/"))]
    if not parts:
        raise KeyError(f"no file {file!r}")
    owner = max(parts, key=lambda p: len(p.path))
    relative = path[len(owner.path) + 1 :] if owner.path else path
    segments = relative.split("/")
    for end in range(1, len(segments) + 1):
        try:
            key = owner.key("/".join(segments[:end]))
        except KeyError:
            continue
        if end == len(segments) or key.copies:
            return owner, key
    raise KeyError(f"{owner.name} has no key {relative!r}")


def not_stored() -> dict[str, dict[str, str]]:
    """Per part, the keys openevent does not store and why: what an importer reports."""
    return {p.name: p.not_stored() for p in FILES if p.not_stored()}


def _check_attributes() -> None:
    """Every stored attribute names a real attribute of its model (checked at import, so that
    a renamed column cannot leave this description behind)."""
    for p in FILES:
        for key in p.keys:
            if key.attribute is None:
                continue
            if not hasattr(p.model, key.attribute):
                raise AttributeError(f"{p.name}: {p.model.__name__} has no {key.attribute!r}")


_check_attributes()


def markdown() -> str:
    """The tables of docs/data-model.md: per part, each key, where it goes, and the note."""
    lines = []
    for p in FILES:
        lines += ["", f"### `{p.name}` ({p.model.__name__})", ""]
        if p.note:
            lines += [p.note[0].upper() + p.note[1:] + ".", ""]
        lines += ["| Open Event key | stored in | notes |", "|---|---|---|"]
        for key in p.keys:
            name = f"`{key.key}`" + "".join(f" (older: `{a}`)" for a in key.aliases)
            target = f"`{key.target}`" if key.attribute else key.target
            lines.append(f"| {name} | {target} | {key.note} |")
    lines += ["", "### Keys not stored, in short", ""]
    lines += [
        f"- `{name}`: " + ", ".join(f"`{key}`" for key in keys)
        for name, keys in not_stored().items()
    ]
    lines += ["", "### Files not stored", "", "| file | what it holds |", "|---|---|"]
    lines += [f"| `{name}` | {why} |" for name, why in NOT_STORED_FILES.items()]
    return "\n".join(lines[1:]) + "\n"
