"""Reading and checking the signed URLs backends give, for the contract tests.

Two kinds: the app's own ``/files/<key>?expires=...&signature=...`` (memory, local), checked
with the backend's ``verify_signed``; and GCS V4 URLs (``X-Goog-*`` parameters), checked here
from Google's published V4 algorithm with the signing key's public half, independently of the
client library that made them.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from openevent.storage.signing import FILES_PATH


@dataclass(frozen=True)
class Signed:
    key: str
    expires_at: float  # Unix time
    query: dict


def _parse(url: str, bucket: str | None) -> Signed:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if bucket is None:
        assert parts.path.startswith(FILES_PATH), url
        return Signed(unquote(parts.path[len(FILES_PATH) :]), float(query["expires"]), query)
    prefix = f"/{bucket}/"
    assert parts.path.startswith(prefix), url
    issued = datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expires_at = issued.timestamp() + int(query["X-Goog-Expires"])
    return Signed(unquote(parts.path[len(prefix) :]), expires_at, query)


def _v4_signature_holds(url: str, public_key) -> bool:
    """Google's V4 signing: RSA-SHA256 over a string to sign built from the request."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    try:
        signature = bytes.fromhex(query.pop("X-Goog-Signature"))
    except (KeyError, ValueError):
        return False
    canonical_query = "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}"
        for name, value in sorted(query.items())
    )
    canonical_request = "\n".join(
        ["GET", parts.path, canonical_query, f"host:{parts.netloc}\n", "host", "UNSIGNED-PAYLOAD"]
    )
    scope = query["X-Goog-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join(
        [
            query["X-Goog-Algorithm"],
            query["X-Goog-Date"],
            scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    try:
        public_key.verify(
            signature, string_to_sign.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True


class URLChecker:
    """Parses and checks one backend's signed URLs (``bucket`` and ``public_key`` for GCS)."""

    def __init__(self, storage, bucket: str | None = None, public_key=None):
        self.storage, self.bucket, self.public_key = storage, bucket, public_key

    def parse(self, url: str) -> Signed:
        return _parse(url, self.bucket)

    def valid(self, url: str, now: float | None = None) -> bool:
        """Would the URL's server (the app, or GCS) accept it at ``now``?"""
        signed = self.parse(url)
        if self.bucket is None:
            return self.storage.verify_signed(
                signed.key, signed.query.get("expires"), signed.query.get("signature"), now=now
            )
        if signed.expires_at < (time.time() if now is None else now):
            return False
        return _v4_signature_holds(url, self.public_key)

    def tampered(self, url: str, other_key: str) -> dict[str, str]:
        """The URL changed as an attacker would: another key, a later expiry, another
        signature."""
        parts = urlsplit(url)
        signed = self.parse(url)
        query = dict(signed.query)
        expiry, signature = (
            ("expires", "signature")
            if self.bucket is None
            else ("X-Goog-Expires", "X-Goog-Signature")
        )
        later = {**query, expiry: str(int(query[expiry]) + 3600)}
        flipped = query[signature]
        flipped = {**query, signature: ("0" if flipped[0] != "0" else "1") + flipped[1:]}
        other_path = parts.path.replace(quote(signed.key, safe="/~"), quote(other_key, safe="/~"))
        assert other_path != parts.path

        def rebuilt(path, values):
            return urlunsplit((parts.scheme, parts.netloc, path, urlencode(values), ""))

        return {
            "another key": rebuilt(other_path, query),
            "a later expiry": rebuilt(parts.path, later),
            "another signature": rebuilt(parts.path, flipped),
        }
