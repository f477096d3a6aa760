"""How values are written in every format: local times, plain text, stable identifiers."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

import lxml.html

# Elements after which text breaks a line when markup becomes plain text.
_BREAKING = ("p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def event_tz(event: dict) -> tzinfo:
    """The event's timezone (zoneinfo: converting a thousand times costs microseconds each)."""
    return ZoneInfo(event["timezone"])


def local(moment: datetime, tz: tzinfo) -> datetime:
    """An aware UTC time in the event's timezone (with the offset in force then)."""
    return moment.astimezone(tz)


def iso(moment: datetime | None, tz: tzinfo) -> str | None:
    """ISO 8601 with the event's offset, as Open Event writes times: 2017-05-17T09:00:00-07:00."""
    return None if moment is None else local(moment, tz).isoformat()


@lru_cache(maxsize=8192)  # a feed rebuild writes each abstract in four formats
def plain_text(markup: str | None) -> str:
    """Sanitized HTML as plain text, block elements ending their lines; '' for nothing."""
    if not markup or not markup.strip():
        return ""
    if "<" not in markup and "&" not in markup:
        return "\n".join(" ".join(line.split()) for line in markup.splitlines() if line.strip())
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    for element in root.iter(*_BREAKING):
        element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def slugify(text: str, fallback: str) -> str:
    """Lowercase ASCII letters and digits joined by hyphens, at most 50 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _SLUG_JUNK.sub("-", ascii_text.lower()).strip("-")[:50].strip("-")
    return slug or fallback


def guid(event: dict, kind: str, row_id: int | str) -> str:
    """A UUID that stays the same for a row across exports (frab's guid, iCal's UID)."""
    return _guid(event["identifier"], kind, row_id)


@lru_cache(maxsize=8192)
def _guid(identifier: str, kind: str, row_id: int | str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"openevent:{identifier}/{kind}/{row_id}"))


# Characters XML 1.0 forbids (C0 controls but tab, newline and return; lone surrogates; FFFE and
# FFFF): no escape can carry them, so a title pasted with one is written without it.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value) -> str:
    """``value`` as XML character data: escaped, forbidden characters dropped.

    Also safe in a double-quoted attribute. A carriage return is written as a reference, so
    that an XML parser (which turns a raw one into a newline) reads it back as it was.
    """
    text = str(value)
    if _XML_FORBIDDEN.search(text):
        text = _XML_FORBIDDEN.sub("", text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def xml_attribute(value) -> str:
    """``value`` for a double-quoted XML attribute: :func:`xml_text`, with tabs and newlines
    as references (a parser would read them back as spaces)."""
    text = xml_text(value)
    if "\n" in text or "\t" in text:
        text = text.replace("\n", "&#10;").replace("\t", "&#9;")
    return text
