"""Reading an Open Event archive (a zip, or the folder it unpacks to) without trusting it.

Nothing is extracted: members are read straight from the zip, so an archive cannot write
anywhere, and concurrent imports share no folder. Before anything is read, every member is
checked, and the whole archive refused with :class:`ArchiveRefused` (whose ``reason`` names
the member) if one of them is hostile or over the limits:

- a name that is absolute, has a drive letter, a backslash, a ``..`` or empty segment or a
  control character (a path that would lead out of a folder it were extracted to);
- a symbolic link (zip members carry Unix modes), an encrypted member, two members of one name;
- more members, more uncompressed bytes in all or in one member, or a higher compression ratio
  than :class:`ArchiveLimits` allow (a zip bomb announces its size; reading stops at the
  announced size in any case, so a member lying about it cannot inflate beyond it).

An Open Event export keeps one JSON file per collection (``event``, ``sessions``,
``speakers``, ...; with or without a ``.json`` suffix) at its root or in one folder at the
root, beside folders of media files (``images/``, ``audio/``, ...).
"""

import functools
import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

# Above this many bytes a member must not be compressed more than max_ratio to one: smaller
# members (a JSON file of spaces, say) compress well without being a threat.
RATIO_FLOOR_BYTES = 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


class ArchiveRefused(ValueError):
    """The archive is not one openevent reads: ``reason`` says why, ``member`` where."""

    def __init__(self, reason: str, member: str | None = None):
        self.reason = reason
        self.member = member
        super().__init__(f"{member}: {reason}" if member else reason)


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int = 10_000
    max_total_bytes: int = 2 * 1024**3  # uncompressed, all members together
    max_member_bytes: int = 512 * 1024**2  # uncompressed, one member
    max_ratio: int = 200
    max_json_bytes: int = 64 * 1024**2  # one collection file: parsed whole, in memory

    @classmethod
    def from_settings(cls, settings) -> "ArchiveLimits":
        """The limits the ``openevent.import.*`` settings give."""
        return cls(
            max_members=settings["openevent.import.max_members"],
            max_total_bytes=settings["openevent.import.max_uncompressed_bytes"],
            max_member_bytes=settings["openevent.import.max_member_bytes"],
            max_ratio=settings["openevent.import.max_compression_ratio"],
            max_json_bytes=settings["openevent.import.max_json_bytes"],
        )


def _check_name(name: str) -> str:
    """The member's path without a trailing slash, or ArchiveRefused."""
    if _CONTROL.search(name):
        raise ArchiveRefused("a member name holds a control character", repr(name))
    if "\\" in name:
        raise ArchiveRefused("a member name holds a backslash", name)
    if name.startswith("/") or _DRIVE.match(name):
        raise ArchiveRefused("a member name is an absolute path", name)
    parts = name.rstrip("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ArchiveRefused("a member name has an empty, '.' or '..' segment", name)
    return "/".join(parts)


_READ_ALL_CHUNK = 1024 * 1024


class _Limited(io.RawIOBase):
    """A stream that fails once more than ``limit`` bytes come out of ``stream``."""

    def __init__(self, stream: BinaryIO, limit: int, member: str):
        self._stream, self._left, self._member = stream, limit, member

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._stream.read(min(len(buffer), self._left + 1))
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
            # A wrong CRC, a truncated or corrupt stream.
            raise ArchiveRefused(f"cannot be read: {exc}", self._member) from None
        if len(data) > self._left:
            raise ArchiveRefused("the member holds more bytes than announced", self._member)
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        # A whole collection file is read at once: in large reads, not the default 8 KiB ones.
        chunks = []
        while chunk := self.read(_READ_ALL_CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._stream.close()
        super().close()


class Archive:
    """The members of a checked archive, by path (``folder/name``, no trailing slash).

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, sizes: dict[str, int], opener, closer=lambda: None, limits=None):
        self.sizes = sizes  # member path -> uncompressed size, files only
        self.limits = limits or ArchiveLimits()
        self._opener = opener
        self._closer = closer

    @classmethod
    def open(cls, path: str | os.PathLike, limits: ArchiveLimits = ArchiveLimits()) -> "Archive":
        """A zip file or an unpacked folder, checked against ``limits``."""
        path = Path(path)
        if path.is_dir():
            return cls._folder(path, limits)
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
            raise ArchiveRefused("not a zip archive (or a damaged one)") from None
        try:
            sizes = cls._checked_zip(archive, limits)
        except BaseException:
            archive.close()
            raise

        def opener(member: str) -> BinaryIO:
            try:
                stream = archive.open(member)
            except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError) as exc:
                raise ArchiveRefused(f"cannot be read: {exc}", member) from None
            return io.BufferedReader(_Limited(stream, sizes[member], member))

        return cls(sizes, opener, archive.close, limits)

    @staticmethod
    def _checked_zip(archive: zipfile.ZipFile, limits: ArchiveLimits) -> dict[str, int]:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise ArchiveRefused(f"more than {limits.max_members} members")
        sizes: dict[str, int] = {}
        total = 0
        for info in members:
            name = _check_name(info.filename)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ArchiveRefused("a member is a symbolic link", name)
            if info.flag_bits & 0x1:
                raise ArchiveRefused("a member is encrypted", name)
            if info.is_dir():
                continue
            if name in sizes:
                raise ArchiveRefused("two members have this name", name)
            if info.file_size > limits.max_member_bytes:
                raise ArchiveRefused(
                    f"a member is larger than {limits.max_member_bytes} bytes uncompressed", name
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
                raise ArchiveRefused(
                    f"compressed {ratio:.0f} to 1, over the limit of {limits.max_ratio} "
                    "(a zip bomb?)",
                    name,
                )
            total += info.file_size
            if total > limits.max_total_bytes:
                raise ArchiveRefused(f"more than {limits.max_total_bytes} bytes uncompressed")
            sizes[name] = info.file_size
        return sizes

    @classmethod
    def _folder(cls, root: Path, limits: ArchiveLimits) -> "Archive":
        root = root.resolve()
        sizes: dict[str, int] = {}
        total = 0
        for directory, folders, files in os.walk(root):
            for name in (*folders, *files):
                if Path(directory, name).is_symlink():
                    member = Path(directory, name).relative_to(root).as_posix()
                    raise ArchiveRefused("a member is a symbolic link", member)
            for name in files:
                member = _check_name(Path(directory, name).relative_to(root).as_posix())
                if len(sizes) >= limits.max_members:
                    raise ArchiveRefused(f"more than {limits.max_members} members")
                size = Path(directory, name).stat().st_size
                if size > limits.max_member_bytes:
                    raise ArchiveRefused(
                        f"a member is larger than {limits.max_member_bytes} bytes", member
                    )
                total += size
                if total > limits.max_total_bytes:
                    raise ArchiveRefused(f"more than {limits.max_total_bytes} bytes")
                sizes[member] = size

        def opener(member: str) -> BinaryIO:
            # Opened without following a symlink planted since the walk.
            descriptor = os.open(root / member, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            return io.BufferedReader(
                _Limited(os.fdopen(descriptor, "rb", buffering=0), sizes[member], member)
            )

        return cls(sizes, opener, limits=limits)

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._closer()

    def open_member(self, member: str) -> BinaryIO:
        """A stream of one member (from :attr:`sizes`); ``KeyError`` for an unknown one."""
        if member not in self.sizes:
            raise KeyError(member)
        return self._opener(member)

    def read(self, member: str) -> bytes:
        with self.open_member(member) as stream:
            return stream.read()

    def collections(self) -> dict[str, str]:
        """Collection name (``sessions``) -> member path, for the JSON files of the export.

        They are the files at the archive's root, or, when the root holds nothing but one
        folder, in that folder; a ``.json`` suffix is dropped from the name.
        """
        base = self._base
        found = {}
        for member in self.sizes:
            path = PurePosixPath(member)
            if str(path.parent) == base:
                name = path.name.removesuffix(".json")
                found.setdefault(name, member)
        return found

    def media(self) -> Iterator[str]:
        """The members in folders below the collections' (images, audio, ...)."""
        base = self._base
        prefix = "" if base == "." else base + "/"
        for member in sorted(self.sizes):
            if member.startswith(prefix) and "/" in member[len(prefix) :]:
                yield member

    def member_at(self, path: str) -> str | None:
        """The media member (see :meth:`media`) a relative URL's ``path`` names
        (``/images/a.jpg`` or ``images/a.jpg``, relative to the collection files' folder), or
        None if none does.

        A path with a ``..`` segment names nothing, wherever it would lead: only the checked
        members of :attr:`sizes` can be found, and never a collection file.
        """
        segments = [segment for segment in path.split("/") if segment not in ("", ".")]
        if len(segments) < 2 or ".." in segments:
            return None
        base = self._base
        member = "/".join(segments if base == "." else [base, *segments])
        return member if member in self.sizes else None

    @functools.cached_property
    def _base(self) -> str:
        # The folder of the collection files: computed once, members are looked up often.
        tops = {member.split("/", 1)[0] for member in self.sizes}
        at_root = [member for member in self.sizes if "/" not in member]
        if not at_root and len(tops) == 1:
            return tops.pop()
        return "."
