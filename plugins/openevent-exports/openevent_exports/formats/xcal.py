"""xCal (RFC 6321): the iCalendar feed's calendar, as XML.

RFC 6321 and jCal (RFC 7265) describe the same data model, property by property, with the same
value type names. The calendar is described once (:func:`.ical.build_calendar`, in jCal's
shape) and written here as XML text: ``<properties>`` and ``<components>`` in each
component, ``<parameters>`` when a property has some, one element per value named after its
type; two spaces of indentation per level.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import BinaryIO

from openevent_exports.formats.ical import (
    Component,
    Property,
    build_calendar,
    escape_text,
    utc_offset,
)
from openevent_exports.formats.values import xml_text
from openevent_exports.snapshot import Program

NAMESPACE = "urn:ietf:params:xml:ns:icalendar-2.0"
_HEAD = f"<?xml version='1.0' encoding='UTF-8'?>\n<icalendar xmlns=\"{NAMESPACE}\">\n"


def _date_time(value: datetime) -> str:
    """Local (naive) as written with a TZID, or UTC with ``Z``; whole seconds."""
    text = value.replace(microsecond=0, tzinfo=None).isoformat()
    return text if value.tzinfo is None else f"{text}Z"


_VALUES: dict[str, Callable] = {
    "text": xml_text,
    "unknown": lambda value: xml_text(escape_text(value)),  # the iCalendar text (RFC 7265 5)
    "date-time": _date_time,
    "utc-offset": lambda value: utc_offset(value, ":"),
    "integer": str,
    "uri": xml_text,
}


def _property(out: list[str], prop: Property, pad: str) -> None:
    name, parameters, value_type, values = prop
    out.append(f"{pad}<{name}>\n")
    if parameters:
        out.append(f"{pad}  <parameters>\n")
        for parameter, value in parameters.items():
            out.append(
                f"{pad}    <{parameter}>\n{pad}      <text>{xml_text(value)}</text>\n"
                f"{pad}    </{parameter}>\n"
            )
        out.append(f"{pad}  </parameters>\n")
    write_value = _VALUES[value_type]
    for value in values:
        out.append(f"{pad}  <{value_type}>{write_value(value)}</{value_type}>\n")
    out.append(f"{pad}</{name}>\n")


def _component(out: list[str], component: Component, pad: str) -> None:
    name, properties, components = component
    out.append(f"{pad}<{name}>\n")
    if properties:
        out.append(f"{pad}  <properties>\n")
        for prop in properties:
            _property(out, prop, pad + "    ")
        out.append(f"{pad}  </properties>\n")
    if components:
        out.append(f"{pad}  <components>\n")
        for child in components:
            _component(out, child, pad + "    ")
        out.append(f"{pad}  </components>\n")
    out.append(f"{pad}</{name}>\n")


def to_xcal(calendar: Component) -> bytes:
    out = [_HEAD]
    _component(out, calendar, "  ")
    out.append("</icalendar>\n")
    return "".join(out).encode()


def write(program: Program, stream: BinaryIO, writing) -> None:
    stream.write(to_xcal(build_calendar(program, writing.session_url)))
    writing.progress(100)
