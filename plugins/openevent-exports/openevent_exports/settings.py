"""The exports plugin's site-wide settings (ini file or environment), checked at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass

SETTINGS_KEY = "exports.settings"


@dataclass(frozen=True)
class ExportSettings:
    keep: int = 5  # exports kept per event; the job deletes older ones from storage
    # A running export whose heartbeat is older than this died (its worker was lost).
    heartbeat_timeout: int = 600
    # A queued export that no worker started within this died too (no worker, a lost message).
    queue_timeout: int = 86_400
    download_expiry: int = 3600  # seconds a download link stays valid
    public_url: str | None = None  # the site's address, for links in the files


_INTEGERS = {
    "keep": ("exports.keep", 1),
    "heartbeat_timeout": ("exports.heartbeat_timeout_seconds", 10),
    "queue_timeout": ("exports.queue_timeout_seconds", 60),
    "download_expiry": ("exports.download_expiry_seconds", 60),
}


def read_settings(settings) -> ExportSettings:
    """The settings, environment first (``EXPORTS_KEEP``...); ``ValueError`` names a bad key."""
    values = {}
    for attribute, (key, minimum) in _INTEGERS.items():
        raw = os.environ.get(key.upper().replace(".", "_"), settings.get(key))
        if raw is None:
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{key} must be a whole number, not {raw!r}") from None
        if value < minimum:
            raise ValueError(f"{key} must be at least {minimum}")
        values[attribute] = value
    public_url = os.environ.get("EXPORTS_PUBLIC_URL", settings.get("exports.public_url"))
    if public_url:
        if not public_url.startswith(("http://", "https://")):
            raise ValueError("exports.public_url must be an http:// or https:// URL")
        values["public_url"] = public_url.rstrip("/")
    return ExportSettings(**values)


def export_settings(registry) -> ExportSettings:
    return registry[SETTINGS_KEY]
