"""xCal (RFC 6321): the iCalendar feed's calendar, as XML.

RFC 6321 and jCal (RFC 7265) describe the same data model, property by property, with the same
value type names. The calendar is built once (:func:`.ical.build_calendar`), icalendar gives
its jCal form, with every property's value type, and this module writes that
as XML: ``<properties>`` and ``<components>`` in each component, ``<parameters>`` when a
property has some, one element per value named after its type.
"""

from __future__ import annotations

from typing import BinaryIO

from lxml import etree

from openevent_exports.formats.ical import build_calendar
from openevent_exports.snapshot import Program

NAMESPACE = "urn:ietf:params:xml:ns:icalendar-2.0"
_N = f"{{{NAMESPACE}}}"
# jCal's structured values (RFC 7265 3.6) and their parts' element names in xCal.
_PERIOD_PARTS = ("start", "end")


def _element(parent, name: str, text: str | None = None):
    element = etree.SubElement(parent, _N + name)
    if text is not None:
        element.text = text
    return element


def _value(parent, value_type: str, value) -> None:
    if value_type == "recur":
        recur = _element(parent, "recur")
        for part, part_value in value.items():
            for item in part_value if isinstance(part_value, list) else [part_value]:
                _element(recur, part, str(item))
    elif value_type == "period":
        period = _element(parent, "period")
        start, end = value
        _element(period, "start", start)
        _element(period, "duration" if end.startswith(("P", "-P", "+P")) else "end", end)
    elif isinstance(value, bool):
        _element(parent, value_type, "true" if value else "false")
    else:
        _element(parent, value_type, str(value))


def _property(parent, jcal_property: list) -> None:
    name, parameters, value_type, *values = jcal_property
    element = _element(parent, name)
    if parameters:
        holder = _element(element, "parameters")
        for parameter, parameter_value in parameters.items():
            item = _element(holder, parameter)
            for text in parameter_value if isinstance(parameter_value, list) else [parameter_value]:
                _element(item, "text", str(text))
    for value in values:
        _value(element, value_type, value)


def _component(parent, jcal_component: list) -> None:
    name, properties, components = jcal_component
    element = _element(parent, name)
    if properties:
        holder = _element(element, "properties")
        for jcal_property in properties:
            _property(holder, jcal_property)
    if components:
        holder = _element(element, "components")
        for child in components:
            _component(holder, child)


def to_xcal(jcal: list) -> bytes:
    root = etree.Element(_N + "icalendar", nsmap={None: NAMESPACE})
    _component(root, jcal)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write(program: Program, stream: BinaryIO, writing) -> None:
    stream.write(to_xcal(build_calendar(program, writing.session_url).to_jcal()))
    writing.progress(100)
