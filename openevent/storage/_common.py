"""Helpers the backends share: reading ``put``'s input in chunks while hashing it."""

import hashlib
import io
from typing import BinaryIO

CHUNK_SIZE = 1024 * 1024


def as_stream(data) -> BinaryIO:
    """``put``'s input as a readable binary stream: bytes are wrapped, streams passed through."""
    if isinstance(data, bytes | bytearray | memoryview):
        return io.BytesIO(data)
    if hasattr(data, "read"):
        return data
    raise TypeError(f"expected bytes or a readable binary stream, not {type(data).__name__}")


class HashingWriter:
    """A write-only file that passes bytes on and keeps their MD5 and count."""

    def __init__(self, target):
        self.target = target
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, chunk) -> int:
        if isinstance(chunk, str):
            raise TypeError("storage content must be bytes, not str")
        self.md5.update(chunk)
        self.size += len(chunk)
        return self.target.write(chunk)
