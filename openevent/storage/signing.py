"""Signed, expiring URLs for private objects served by the app under ``/files``.

The signature is an HMAC-SHA256, keyed with ``openevent.secret``, over a purpose label, the key
and the expiry time, so a signature made for one key or one expiry fits no other, and nothing
else the secret signs (login tokens) can pass for one.
"""

import hashlib
import hmac
import time
from datetime import timedelta
from urllib.parse import quote, urlencode

from openevent.storage.interface import DEFAULT_URL_EXPIRY

FILES_PATH = "/files/"
_PURPOSE = b"openevent.storage.url\n"


def file_path(key: str) -> str:
    """``/files/<key>``, the key percent-encoded (its slashes kept)."""
    return FILES_PATH + quote(key, safe="/")


def signature(secret: str, key: str, expires: int) -> str:
    message = _PURPOSE + key.encode("utf-8") + b"\n" + str(expires).encode("ascii")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def lifetime_seconds(expires: int | timedelta | None) -> float:
    """``url()``'s ``expires`` in seconds: the default when ``None``; never zero or less."""
    lifetime = DEFAULT_URL_EXPIRY if expires is None else expires
    if isinstance(lifetime, timedelta):
        lifetime = lifetime.total_seconds()
    if lifetime <= 0:
        raise ValueError("expires must be positive")
    return lifetime


def signed_url(secret: str, key: str, expires: int | timedelta | None = None, now=None) -> str:
    """``/files/<key>?expires=<unix time>&signature=<hex>``, valid for ``expires`` from now."""
    at = int((time.time() if now is None else now) + lifetime_seconds(expires))
    query = urlencode({"expires": at, "signature": signature(secret, key, at)})
    return f"{file_path(key)}?{query}"


def verify_signed(secret: str, key: str, expires, signature_: str, now=None) -> bool:
    """True if ``signature_`` signs ``key`` until ``expires`` and that time has not passed.

    ``expires`` and ``signature_`` may come straight from a query string: anything malformed
    is simply not valid.
    """
    try:
        at = int(expires)
    except (TypeError, ValueError):
        return False
    if not isinstance(signature_, str) or at < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(signature(secret, key, at), signature_)


def public_url(base_url: str, key: str) -> str:
    """``<base_url>/<key>``, the key percent-encoded as in ``/files`` paths."""
    return f"{base_url.rstrip('/')}/{quote(key, safe='/')}"


class SignedURLs:
    """``url`` and ``verify_signed`` of a backend served by the app at ``/files``: public
    objects get their plain path (or ``public_base_url`` + key, where a CDN or a web server
    serves the objects), private ones a signed, expiring URL. A backend sets ``_secret``,
    may set ``_public_base_url``, and has ``stat``."""

    _secret: str
    _public_base_url: str = ""

    def url(self, key, *, expires: int | timedelta | None = None) -> str:
        if self.stat(key).public:
            if self._public_base_url:
                return public_url(self._public_base_url, key)
            return file_path(key)
        return signed_url(self._secret, key, expires)

    def verify_signed(self, key, expires, signature, now=None) -> bool:
        return verify_signed(self._secret, key, expires, signature, now=now)
