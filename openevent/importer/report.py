"""What an import did: counts per collection, keys it ignored, and every repair and skip."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


class ImportFailed(Exception):
    """The import cannot go on: ``reason``, and where (``file``, ``key`` or ``position``)."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        id=None,
        key: str | None = None,
        position: str | None = None,
    ):
        self.reason, self.file, self.id, self.key, self.position = reason, file, id, key, position
        where = ", ".join(
            part
            for part in (
                file and f"file {file}",
                id is not None and f"id {id}",
                key and f"key {key}",
                position,
            )
            if part
        )
        super().__init__(f"{where}: {reason}" if where else reason)

    def count_media(self, files: int, size: int) -> None:
        """The media files of the archive that went to storage, and their bytes."""
        self.media = {"files": files, "bytes": size}

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "file": self.file,
            "id": None if self.id is None else str(self.id),
            "key": self.key,
            "position": self.position,
        }


@dataclass(frozen=True)
class Finding:
    """One repair (``repaired``), skip (``skipped``) or note (``warning``), with where and why."""

    kind: str
    file: str
    id: str | None
    reason: str

    def count_media(self, files: int, size: int) -> None:
        """The media files of the archive that went to storage, and their bytes."""
        self.media = {"files": files, "bytes": size}

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "file": self.file, "id": self.id, "reason": self.reason}


@dataclass
class Report:
    """Built while an import reads and loads; ``strict`` turns every repair or skip into a
    failure (:class:`ImportFailed`) at the moment it is found."""

    strict: bool = False
    counts: Counter = field(default_factory=Counter)  # collection -> rows imported
    ignored_keys: dict[str, Counter] = field(default_factory=dict)  # file -> key -> records
    findings: list[Finding] = field(default_factory=list)
    media: dict[str, int] = field(default_factory=lambda: {"files": 0, "bytes": 0})

    def _found(self, kind: str, file: str, id, reason: str) -> None:
        key = None if id is None else str(id)
        if self.strict:
            raise ImportFailed(f"{reason} (refused: strict import)", file=file, id=key)
        self.findings.append(Finding(kind, file, key, reason))

    def repaired(self, file: str, id, reason: str) -> None:
        self._found("repaired", file, id, reason)

    def skipped(self, file: str, id, reason: str) -> None:
        self._found("skipped", file, id, reason)

    def warning(self, file: str, id, reason: str) -> None:
        # Notes that change nothing (naive times read in the event's timezone): never refused.
        self.findings.append(Finding("warning", file, None if id is None else str(id), reason))

    def ignored(self, file: str, key: str) -> None:
        keys = self.ignored_keys.get(file)
        if keys is None:
            keys = self.ignored_keys[file] = Counter()
        keys[key] += 1

    def count_media(self, files: int, size: int) -> None:
        """The media files of the archive that went to storage, and their bytes."""
        self.media = {"files": files, "bytes": size}

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(sorted(self.counts.items())),
            "ignored-keys": {
                file: dict(sorted(keys.items())) for file, keys in sorted(self.ignored_keys.items())
            },
            "findings": [finding.as_dict() for finding in self.findings],
            "media": dict(self.media),
        }
