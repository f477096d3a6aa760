"""The one key validator every storage backend shares.

A key is a relative POSIX path such as ``events/12/logo.png``. Every backend refuses the same
keys with the same :class:`InvalidKey`, so a plugin tested on the memory storage cannot write a
key that the local or GCS storage would later refuse, or that could escape the local root.
"""

import unicodedata

# GCS's limit on an object name; the local storage meets it on every common filesystem.
MAX_KEY_BYTES = 1024
# Filesystems allow 255 bytes a name; the local storage keeps room for its own hidden
# sidecar names (".<segment>.meta.json") beside the object.
MAX_SEGMENT_BYTES = 200
# Line and paragraph separators break logs and headers as control characters do.
_REFUSED_CATEGORIES = {"Cc", "Zl", "Zp"}


class InvalidKey(ValueError):
    """A storage key or prefix that the storage refuses; the message says why."""


def _check_characters(key: str, what: str) -> None:
    if not isinstance(key, str):
        raise InvalidKey(f"{what} must be a string, not {type(key).__name__}")
    if "\\" in key:
        raise InvalidKey(f"{what} {key!r}: backslashes are not allowed (use / between folders)")
    for char in key:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise InvalidKey(f"{what} {key!r}: control character U+{ord(char):04X} is not allowed")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKey(f"{what} {key!r}: not valid unicode (lone surrogate)") from None
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidKey(f"{what} is {len(encoded)} bytes long; at most {MAX_KEY_BYTES} allowed")


def _check_segment(key: str, segment: str, what: str) -> None:
    if segment in {".", ".."}:
        raise InvalidKey(f"{what} {key!r}: '.' and '..' segments are not allowed")
    if segment.startswith("."):
        # Hidden names belong to the storage itself (the local storage's temporary and
        # metadata files), so no object can collide with them.
        raise InvalidKey(f"{what} {key!r}: segments may not start with '.'")
    if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
        raise InvalidKey(f"{what} {key!r}: a segment is longer than {MAX_SEGMENT_BYTES} bytes")


def validate_key(key: str) -> str:
    """Return ``key`` if it is a valid object key, or raise :class:`InvalidKey`."""
    _check_characters(key, "key")
    if not key:
        raise InvalidKey("key is empty")
    if key.startswith("/"):
        raise InvalidKey(f"key {key!r}: absolute paths are not allowed (no leading /)")
    if key.endswith("/"):
        raise InvalidKey(f"key {key!r}: a key may not end with / (that names a folder)")
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey(f"key {key!r}: empty segments ('//') are not allowed")
        _check_segment(key, segment, "key")
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it can start a valid key (``""`` lists everything)."""
    _check_characters(prefix, "prefix")
    if prefix.startswith("/"):
        raise InvalidKey(f"prefix {prefix!r}: absolute paths are not allowed (no leading /)")
    segments = prefix.split("/")
    for index, segment in enumerate(segments):
        if not segment:
            if index == len(segments) - 1:
                continue  # "events/": everything in that folder
            raise InvalidKey(f"prefix {prefix!r}: empty segments ('//') are not allowed")
        _check_segment(prefix, segment, "prefix")
    return prefix
