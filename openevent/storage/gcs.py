"""The gcs storage: objects in a Google Cloud Storage bucket (``openevent.storage.gcs_bucket``).

Credentials come from the environment as Google's libraries expect them (Application Default
Credentials: ``GOOGLE_APPLICATION_CREDENTIALS``, ``gcloud auth application-default login``, or
the service account of a GCE, GKE or Cloud Run host); ``STORAGE_EMULATOR_HOST`` points the
client at an emulator with anonymous credentials. One client per process, built on first use
(so a missing credential does not stop start-up, and a forked worker builds its own): the
client is documented as safe to share between threads.

- ``put`` uploads an object of up to 8 MiB in one request, and anything larger resumably in
  8 MiB chunks read from the stream, so an export of hundreds of MB never sits in memory. GCS
  replaces an object whole when its upload ends: concurrent writers of one key leave one whole
  object. Content type and cache control are the object's own metadata; ``public`` is the
  custom metadata ``openevent-public`` (the truth for ``stat().public``), and with
  ``openevent.storage.gcs_public_objects = acl`` also a ``publicRead`` ACL (``projectPrivate``
  for private objects), which buckets with uniform bucket-level access refuse: they use
  ``app``, where the app serves public objects at ``/files/``.
- ``open`` reads the generation it found in 8 MiB ranges: a writer replacing the object
  meanwhile makes the read fail with :class:`ObjectNotFound`, never mixes two contents.
- ``url`` of a private object is a V4 signed URL, signed with the credentials' private key,
  or through IAM signBlob as ``openevent.storage.gcs_signing_service_account`` (or the
  credentials' own service account) when they hold none.
- ``verify_signed`` checks the app's own ``/files`` signatures (HMAC with ``openevent.secret``),
  as on every backend, so ``/files/{key}`` serves gcs objects too.

Failures of the service (a missing bucket, no credentials, a permission denied) raise
:class:`StorageError` with a one-line message saying which.
"""

import base64
import io
import os
import re
import threading
from contextlib import contextmanager, suppress
from datetime import timedelta

import google.auth.exceptions
import requests
from google.api_core import exceptions as api_exceptions
from google.auth.credentials import AnonymousCredentials, Signing
from google.auth.transport.requests import Request as AuthRequest
from google.cloud import storage as gcs
from google.cloud.storage.exceptions import DataCorruption, InvalidResponse
from google.oauth2 import service_account

from openevent.storage._common import as_stream
from openevent.storage.interface import ObjectNotFound, StorageError, StoredFile
from openevent.storage.keys import validate_key, validate_prefix
from openevent.storage.signing import SignedURLs, file_path, lifetime_seconds, public_url

# Uploads smaller than this go in one request; larger ones resumably in chunks of this size
# (GCS wants multiples of 256 KiB; 8 MiB is its advice for throughput). Downloads read ranges
# of the same size. Memory per transfer is a few chunks.
CHUNK_SIZE = 8 * 1024 * 1024
# The custom metadata holding put()'s public flag.
PUBLIC_METADATA = "openevent-public"
# GCS's limit on a V4 signed URL's lifetime.
MAX_SIGNED_URL_LIFETIME = timedelta(days=7)
_NEEDED_ROLE = "the service account needs roles/storage.objectAdmin on the bucket"


def from_settings(settings) -> "GCSStorage":
    """The backend ``openevent.storage = gcs`` names (entry point group openevent.storages)."""
    return GCSStorage(
        settings["openevent.storage.gcs_bucket"],
        settings["openevent.secret"],
        public_objects=settings["openevent.storage.gcs_public_objects"],
        signing_service_account=settings["openevent.storage.gcs_signing_service_account"],
        public_base_url=settings["openevent.storage.public_base_url"],
    )


def _one_line(error: Exception) -> str:
    """The error's message on one line: GCS's own when it answered one, without the request
    line the client puts first."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    response = getattr(error, "response", None)
    # No response, or not GCS's JSON error: the message as the client made it.
    with suppress(AttributeError, ValueError, KeyError, TypeError):
        message = response.json()["error"]["message"]
    return re.sub(r"^[A-Z]+ https?://\S+: ", "", " ".join(str(message).split()))


class _FullReads:
    """``put``'s stream as the upload reads it: ``read(n)`` returns ``n`` bytes unless the
    stream ends (a short read would tell the upload it has ended), and ``tell()``."""

    def __init__(self, stream):
        self._stream = stream
        self._pushed_back = b""
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        remaining = None if size is None or size < 0 else size
        parts = []
        if self._pushed_back:
            parts.append(self._pushed_back[:remaining])
            self._pushed_back = self._pushed_back[len(parts[0]) :]
            if remaining is not None:
                remaining -= len(parts[0])
        while remaining is None or remaining > 0:
            chunk = self._stream.read(CHUNK_SIZE if remaining is None else remaining)
            if isinstance(chunk, str):
                raise TypeError("storage content must be bytes, not str")
            if not chunk:
                break
            parts.append(chunk)
            if remaining is not None:
                remaining -= len(chunk)
        # One piece (a file's read, what was pushed back) is passed on as it is, not copied.
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        self._position += len(data)
        return bytes(data)

    def push_back(self, data: bytes) -> None:
        """Make ``data``, just read, the next bytes read again."""
        self._pushed_back = data + self._pushed_back
        self._position -= len(data)

    def tell(self) -> int:
        return self._position


class _ObjectReader(io.RawIOBase):
    """``open()``'s stream: whole chunks from the client's ranged reader, handed out in the
    sizes asked for (without the reader's own buffering, which would copy each chunk
    again), its failures made storage errors."""

    def __init__(self, reader, chunk_size: int, errors):
        self._reader = reader
        self._chunk_size = chunk_size
        self._errors = errors
        self._chunk = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self._chunk:
            self._chunk = memoryview(b"")  # let the last chunk go before fetching the next
            with self._errors():
                self._chunk = memoryview(self._reader.read(self._chunk_size))
        size = min(len(buffer), len(self._chunk))
        buffer[:size] = self._chunk[:size]
        self._chunk = self._chunk[size:]
        return size

    def close(self) -> None:
        self._chunk = memoryview(b"")
        self._reader.close()
        super().close()


class GCSStorage(SignedURLs):
    def __init__(
        self,
        bucket: str,
        secret: str,
        *,
        public_objects: str = "acl",
        signing_service_account: str = "",
        public_base_url: str = "",
        client: gcs.Client | None = None,
        signing_credentials=None,
        chunk_size: int = CHUNK_SIZE,
    ):
        if public_objects not in {"acl", "app"}:
            raise ValueError("public_objects: expected acl or app")
        if chunk_size <= 0 or chunk_size % (256 * 1024):
            raise ValueError("chunk_size: a multiple of 256 KiB is required")
        self.chunk_size = chunk_size
        self.bucket_name = bucket
        self._secret = secret
        self._public_objects = public_objects
        self._signing_service_account = signing_service_account
        self._public_base_url = public_base_url
        self._signing_credentials = signing_credentials
        self._lock = threading.Lock()
        self._given_client = client
        self._process_client: tuple[int, gcs.Client] | None = None

    # The client, and what its failures mean.

    def client(self) -> gcs.Client:
        """This process's client (built on first use; a forked process builds its own)."""
        if self._given_client is not None:
            return self._given_client
        built = self._process_client
        if built is None or built[0] != os.getpid():
            with self._lock:
                built = self._process_client
                if built is None or built[0] != os.getpid():
                    with self._errors():
                        built = (os.getpid(), gcs.Client(project=None))
                    self._process_client = built
        return built[1]

    def _bucket(self) -> gcs.Bucket:
        return self.client().bucket(self.bucket_name)

    def _missing_bucket(self) -> StorageError:
        return StorageError(
            f"gcs bucket {self.bucket_name!r} does not exist (openevent.storage.gcs_bucket)"
        )

    @staticmethod
    def _names_the_bucket(error: api_exceptions.NotFound) -> bool:
        # GCS answers 404 for a missing object and for a missing bucket alike; only the
        # message tells them apart.
        return "bucket does not exist" in _one_line(error).lower()

    @contextmanager
    def _errors(self, not_found_is_bucket: bool = False):
        """Turn the client's failures into :class:`StorageError` saying what is wrong."""
        bucket = f"gcs bucket {self.bucket_name!r}"
        try:
            yield
        except api_exceptions.NotFound as error:
            if not_found_is_bucket or self._names_the_bucket(error):
                raise self._missing_bucket() from error
            raise StorageError(f"{bucket}: not found: {_one_line(error)}") from error
        except api_exceptions.Forbidden as error:
            raise StorageError(
                f"permission denied on {bucket} ({_NEEDED_ROLE}): {_one_line(error)}"
            ) from error
        except api_exceptions.Unauthorized as error:
            raise StorageError(
                f"Google Cloud Storage refused the credentials: {_one_line(error)}"
            ) from error
        except (api_exceptions.BadRequest, api_exceptions.PreconditionFailed) as error:
            message = _one_line(error)
            if "uniform bucket-level access" in message or "publicAccessPrevention" in message:
                raise StorageError(
                    f"{bucket} refuses public ACLs ({message}): set "
                    "openevent.storage.gcs_public_objects = app"
                ) from error
            raise StorageError(f"{bucket}: {message}") from error
        except google.auth.exceptions.DefaultCredentialsError as error:
            raise StorageError(
                "no Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a service "
                "account key file, or run with a service account (GCE, GKE, Cloud Run) or "
                "`gcloud auth application-default login`"
            ) from error
        except google.auth.exceptions.RefreshError as error:
            raise StorageError(
                f"the Google credentials could not get a token: {_one_line(error)}"
            ) from error
        except (
            google.auth.exceptions.TransportError,
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
        ) as error:
            raise StorageError(f"cannot reach Google Cloud Storage: {_one_line(error)}") from error
        except (api_exceptions.GoogleAPICallError, InvalidResponse, DataCorruption) as error:
            raise StorageError(f"{bucket}: {_one_line(error)}") from error

    # The storage.

    def _stored(self, blob: gcs.Blob) -> StoredFile:
        # GCS gives the MD5 in base64; composite objects (other tools') have none.
        etag = base64.b64decode(blob.md5_hash).hex() if blob.md5_hash else blob.etag
        return StoredFile(
            key=blob.name,
            size=blob.size,
            content_type=blob.content_type or "application/octet-stream",
            etag=etag,
            public=(blob.metadata or {}).get(PUBLIC_METADATA) == "true",
            cache_control=blob.cache_control,
            last_modified=blob.updated,
        )

    def _predefined_acl(self, public: bool) -> str | None:
        if self._public_objects == "app":
            return None  # uniform bucket-level access: objects have no ACLs
        return "publicRead" if public else "projectPrivate"

    def put(self, key, data, content_type, *, public=False, cache_control=None) -> StoredFile:
        validate_key(key)
        source = _FullReads(as_stream(data))
        head = source.read(self.chunk_size)
        blob = self._bucket().blob(key, chunk_size=self.chunk_size)
        blob.cache_control = cache_control
        blob.metadata = {PUBLIC_METADATA: "true" if public else "false"}
        options = {"content_type": content_type, "predefined_acl": self._predefined_acl(public)}
        with self._errors(not_found_is_bucket=True):
            if len(head) < self.chunk_size:
                blob.upload_from_file(io.BytesIO(head), size=len(head), **options)
            else:
                source.push_back(head)
                del head  # the stream holds it now: one copy of the chunk, not two
                # size=None: a resumable upload in chunks, ended when the stream is.
                blob.upload_from_file(source, **options)
        return self._stored(blob)

    def _fetch(self, key) -> gcs.Blob | None:
        """The object's blob with its metadata, or None."""
        validate_key(key)
        blob = self._bucket().blob(key)
        with self._errors():
            try:
                blob.reload()
            except api_exceptions.NotFound as error:
                if self._names_the_bucket(error):
                    raise
                return None
        return blob

    def _existing(self, key) -> gcs.Blob:
        blob = self._fetch(key)
        if blob is None:
            raise ObjectNotFound(key)
        return blob

    def stat(self, key) -> StoredFile:
        return self._stored(self._existing(key))

    def open(self, key):
        blob = self._existing(key)

        @contextmanager
        def errors():
            try:
                with self._errors():
                    yield
            except StorageError as error:
                if isinstance(error.__cause__, api_exceptions.NotFound):
                    # The generation we read was replaced or deleted meanwhile.
                    raise ObjectNotFound(key) from error
                raise

        # The blob names the generation found: every range comes from that one object.
        reader = blob.open("rb", chunk_size=self.chunk_size, raw_download=True)
        return io.BufferedReader(_ObjectReader(reader, self.chunk_size, errors))

    def delete(self, key) -> None:
        validate_key(key)
        blob = self._bucket().blob(key)
        with self._errors():
            try:
                blob.delete()
            except api_exceptions.NotFound as error:
                if self._names_the_bucket(error):
                    raise

    def exists(self, key) -> bool:
        return self._fetch(key) is not None

    def list(self, prefix: str = "") -> list[StoredFile]:
        validate_prefix(prefix)
        with self._errors(not_found_is_bucket=True):
            blobs = list(self.client().list_blobs(self.bucket_name, prefix=prefix or None))
        return sorted((self._stored(blob) for blob in blobs), key=lambda stored: stored.key)

    # URLs.

    def url(self, key, *, expires: int | timedelta | None = None) -> str:
        stored = self.stat(key)
        if stored.public:
            if self._public_base_url:
                return public_url(self._public_base_url, key)
            if self._public_objects == "app":
                return file_path(key)
            base = f"{self.client().api_endpoint.rstrip('/')}/{self.bucket_name}"
            return public_url(base, key)
        lifetime = timedelta(seconds=lifetime_seconds(expires))
        if lifetime > MAX_SIGNED_URL_LIFETIME:
            raise ValueError("expires: a GCS signed URL lasts at most 7 days")
        signer = self._signer()
        with self._errors():
            return (
                self._bucket()
                .blob(key)
                .generate_signed_url(version="v4", expiration=lifetime, method="GET", **signer)
            )

    def _signer(self) -> dict:
        """How to sign: ``generate_signed_url``'s credentials, or its IAM signBlob account."""
        credentials = self._signing_credentials or self.client()._credentials
        if isinstance(credentials, AnonymousCredentials):
            # An emulator's anonymous client; a key file, if one is named, can still sign.
            path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
            if not path:
                raise StorageError(
                    "cannot sign GCS URLs with anonymous credentials: set "
                    "GOOGLE_APPLICATION_CREDENTIALS to a service account key file"
                )
            try:
                credentials = service_account.Credentials.from_service_account_file(path)
            except (OSError, ValueError) as error:
                raise StorageError(
                    f"GOOGLE_APPLICATION_CREDENTIALS: not a service account key file: "
                    f"{_one_line(error)}"
                ) from error
            self._signing_credentials = credentials
        if isinstance(credentials, Signing) and not self._signing_service_account:
            return {"credentials": credentials}
        # No private key here (a GCE or Cloud Run service account, user credentials): IAM
        # signs, as the configured account or the credentials' own.
        with self._lock, self._errors():
            if not credentials.valid:
                credentials.refresh(AuthRequest())
        account = self._signing_service_account or getattr(
            credentials, "service_account_email", None
        )
        if not account or account == "default":
            raise StorageError(
                "cannot sign GCS URLs: the credentials hold no private key and name no service "
                "account; set openevent.storage.gcs_signing_service_account"
            )
        return {"service_account_email": account, "access_token": credentials.token}
