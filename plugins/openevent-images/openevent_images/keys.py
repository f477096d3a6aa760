"""Where uploads and their resized copies live in storage, and how a URL is known as ours.

Everything of one upload is under one prefix, ``events/<event id>/uploads/<token>/``: the
original (``original.<ext>``) and each processing of it (``<variant>/<kind>-<size>.<ext>``,
the variant naming the settings it was made with). Keys are stable: processing an upload again
with the same settings writes the same keys, so a job delivered twice changes nothing.

A URL is one of this installation's uploads when it ends with the storage's URL of such a key
of the event; nothing else is ever read, and nothing is ever fetched (the server reads its own
storage by key). The host part is not checked, since a URL whose path names one of the event's
own uploads can only lead to that upload.
"""

import re
import secrets
from dataclasses import dataclass

from openevent.storage import ObjectNotFound

_TOKEN = "[0-9a-f]{32}"
_OWN_KEY = re.compile(
    rf"(?:^|/)(events/(?P<event>[0-9]+)/uploads/(?P<token>{_TOKEN})/"
    r"(?:original\.(?:jpg|png|webp|gif)|(?P<variant>[0-9a-f]{12})/[a-z-]+\.(?:jpg|png|webp)))$"
)


def new_token() -> str:
    return secrets.token_hex(16)


def upload_prefix(event_id: int, token: str) -> str:
    return f"events/{event_id}/uploads/{token}/"


def original_key(event_id: int, token: str, extension: str) -> str:
    return f"{upload_prefix(event_id, token)}original.{extension}"


def output_key(event_id: int, token: str, variant: str, kind: str, size: str, ext: str) -> str:
    return f"{upload_prefix(event_id, token)}{variant}/{kind}-{size}.{ext}"


def webp_sibling(key: str) -> str:
    return key.rsplit(".", 1)[0] + ".webp"


@dataclass(frozen=True)
class OwnFile:
    """A URL recognised as one of the event's own files."""

    key: str
    token: str
    derived: bool  # a resized copy rather than an original
    base: str  # what precedes the storage's URL of the key in the given URL (the host)


def own_file(storage, url: str | None, event_id: int) -> OwnFile | None:
    """The event's own upload (or resized copy) that ``url`` points to, if it does and the
    object exists; None for any other URL."""
    if not url or "?" in url or "#" in url:
        return None
    match = _OWN_KEY.search(url)
    if match is None or int(match["event"]) != event_id:
        return None
    key = match[1]
    try:
        stored_url = storage.url(key)
    except ObjectNotFound:
        return None
    if not url.endswith(stored_url):
        return None
    return OwnFile(key, match["token"], match["variant"] is not None, url[: -len(stored_url)])


def token_in(url: str | None, event_id: int) -> str | None:
    """The upload token of the event that ``url`` names, read from the URL alone."""
    match = _OWN_KEY.search(url or "")
    if match is None or int(match["event"]) != event_id:
        return None
    return match["token"]


def derived_key_in(url: str | None, event_id: int) -> str | None:
    """The key of the event's resized copy that ``url`` names (not an original's), from the
    URL alone."""
    match = _OWN_KEY.search(url or "")
    if match is None or int(match["event"]) != event_id or match["variant"] is None:
        return None
    return match[1]
