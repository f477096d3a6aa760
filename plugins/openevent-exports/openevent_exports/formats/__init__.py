"""The export formats, one module each, all written from a program snapshot.

:data:`FORMATS` names each: its media type, file name, whether it is written from the public
program or the team's, the options it takes (checked before a job starts), and its ``write``
function, which writes bytes to a binary stream and reports its progress (0-100) as it goes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO


@dataclass(frozen=True)
class Option:
    """An option of a format: its JSON type, default and allowed range."""

    kind: type
    default: Any
    description: str
    minimum: int | None = None
    maximum: int | None = None

    def parse(self, name: str, value: Any) -> Any:
        """``value`` checked; ``ValueError`` with a message naming ``name`` otherwise."""
        # bool is an int in Python: an option of one kind never takes the other.
        if type(value) is not self.kind:
            raise ValueError(f"{name} must be a {self.kind.__name__.replace('bool', 'boolean')}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{name} must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"{name} must be at most {self.maximum}")
        return value

    def schema(self) -> dict:
        schema = {"type": "boolean" if self.kind is bool else "integer", "default": self.default}
        schema["description"] = self.description
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


@dataclass
class Writing:
    """What a format's ``write`` gets besides the program and the stream."""

    options: dict = field(default_factory=dict)
    progress: Callable[[int], None] = lambda percent: None
    # The site's public address (the exports.public_url setting), for links back to sessions.
    base_url: str | None = None
    storage: Any = None  # the app's storage, for media files (open-event's include-media)

    def session_url(self, session_id: int) -> str | None:
        return f"{self.base_url}/v1/sessions/{session_id}" if self.base_url else None


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    filename: str
    public: bool  # written from the public program (feeds) or the team's whole program
    write: Callable[[Any, BinaryIO, Writing], None]
    options: dict[str, Option] = field(default_factory=dict)

    def parse_options(self, options: dict) -> tuple[dict, dict[str, str]]:
        """Every option with its value (defaults filled in), and the errors by option name."""
        parsed, errors = {}, {}
        for name in options:
            if name not in self.options:
                known = ", ".join(self.options) or "none"
                errors[name] = f"{self.name} has no option {name!r} (its options: {known})"
        for name, option in self.options.items():
            if name in options:
                try:
                    parsed[name] = option.parse(name, options[name])
                except ValueError as error:
                    errors[name] = str(error)
            else:
                parsed[name] = option.default
        return parsed, errors


def _formats() -> dict[str, Format]:
    # Imported here: each module imports Writing from this one.
    from openevent_exports.formats import csv, frab, ical, open_event, xcal

    day_change = Option(
        int,
        4,
        "the local hour at which one day of the schedule ends and the next begins",
        minimum=0,
        maximum=23,
    )
    return {
        format.name: format
        for format in (
            Format(
                "open-event",
                "application/zip",
                "open-event.zip",
                False,
                open_event.write,
                {"include-media": Option(bool, False, "add the event's and speakers' images")},
            ),
            Format("ical", "text/calendar; charset=utf-8", "schedule.ics", True, ical.write),
            Format(
                "xcal", "application/calendar+xml; charset=utf-8", "schedule.xcal", True, xcal.write
            ),
            Format(
                "frab-xml",
                "application/xml; charset=utf-8",
                "schedule.xml",
                True,
                frab.write_xml,
                {"day-change-hour": day_change},
            ),
            Format(
                "frab-json",
                "application/json; charset=utf-8",
                "schedule.json",
                True,
                frab.write_json,
                {"day-change-hour": day_change},
            ),
            Format("csv", "application/zip", "csv.zip", False, csv.write),
        )
    }


FORMATS: dict[str, Format] = _formats()
