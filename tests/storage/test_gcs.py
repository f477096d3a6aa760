"""What the gcs backend adds to the contract (tests/storage/test_contract.py runs that on it
too): its metadata, URLs and V4 signatures, errors that say what is wrong, and its client."""

import base64
import hashlib
import json
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import storage as gcs
from signed_url_checks import URLChecker

import openevent.storage.gcs as gcs_module
from openevent.settings import SettingsError, load_settings
from openevent.storage import ObjectNotFound, StorageError, build_storage
from openevent.storage.gcs import PUBLIC_METADATA, GCSStorage

SECRET = "a test secret of some length"


def test_metadata_is_stored_on_the_object(gcs_storage, gcs_emulator):
    stored = gcs_storage.put(
        "events/1/logo.png", b"png bytes", "image/png", public=True, cache_control="max-age=60"
    )
    blob = gcs_emulator.client.bucket(gcs_emulator.bucket).get_blob("events/1/logo.png")
    assert blob.content_type == "image/png"
    assert blob.cache_control == "max-age=60"
    assert blob.metadata == {PUBLIC_METADATA: "true"}
    # GCS's base64 MD5, as hex; the modification time is the object's "updated".
    assert base64.b64decode(blob.md5_hash).hex() == hashlib.md5(b"png bytes").hexdigest()
    assert stored.etag == hashlib.md5(b"png bytes").hexdigest()
    assert stored.last_modified == blob.updated
    assert stored.last_modified.tzinfo is not None
    assert gcs_storage.stat("events/1/logo.png") == stored


def test_objects_written_by_other_tools_read_as_private(gcs_storage, gcs_emulator):
    gcs_emulator.client.bucket(gcs_emulator.bucket).blob("other.txt").upload_from_string(b"x")
    stored = gcs_storage.stat("other.txt")
    assert (stored.public, stored.content_type) == (False, "text/plain")


def test_a_public_object_has_its_gcs_url(gcs_storage, gcs_emulator):
    gcs_storage.put("images/a b é.png", b"png", "image/png", public=True)
    url = gcs_storage.url("images/a b é.png")
    assert url == f"{gcs_emulator.host}/{gcs_emulator.bucket}/images/a%20b%20%C3%A9.png"
    assert requests.get(url, timeout=10).content == b"png"


def test_public_base_url_and_app_served_public_objects(gcs_emulator):
    cdn = gcs_emulator.storage(SECRET, public_base_url="https://cdn.example.org/files")
    app = gcs_emulator.storage(SECRET, public_objects="app")
    cdn.put("a b.png", b"png", "image/png", public=True)
    assert cdn.url("a b.png") == "https://cdn.example.org/files/a%20b.png"
    assert app.url("a b.png") == "/files/a%20b.png"
    gcs_emulator.empty()


def v4_query(url):
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_private_objects_get_v4_signed_urls(gcs_storage, gcs_emulator):
    gcs_storage.put("exports/1/export.zip", b"zip", "application/zip")
    before = datetime.now(UTC).replace(microsecond=0)
    url = gcs_storage.url("exports/1/export.zip", expires=600)
    query = v4_query(url)
    assert urlsplit(url).path == f"/{gcs_emulator.bucket}/exports/1/export.zip"
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    email = gcs_emulator.service_account.info["client_email"]
    assert query["X-Goog-Credential"] == (f"{email}/{before:%Y%m%d}/auto/storage/goog4_request")
    assert query["X-Goog-SignedHeaders"] == "host"
    assert query["X-Goog-Expires"] == "600"
    signed_at = datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= signed_at <= datetime.now(UTC)
    checker = URLChecker(gcs_storage, gcs_emulator.bucket, gcs_emulator.service_account.public_key)
    assert checker.valid(url)
    # The emulator serves it (it checks no signature: the test above does).
    assert requests.get(url, timeout=10).content == b"zip"
    # Another key, another signature; GCS's limit of 7 days holds.
    gcs_storage.put("exports/1/other.zip", b"zip", "application/zip")
    other = v4_query(gcs_storage.url("exports/1/other.zip", expires=600))
    assert other["X-Goog-Signature"] != query["X-Goog-Signature"]
    gcs_storage.url("exports/1/export.zip", expires=timedelta(days=7))
    with pytest.raises(ValueError, match="at most 7 days"):
        gcs_storage.url("exports/1/export.zip", expires=timedelta(days=7, seconds=1))


def test_anonymous_credentials_cannot_sign(gcs_emulator, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    storage = GCSStorage(gcs_emulator.bucket, SECRET, client=gcs_emulator.client)
    storage.put("private.txt", b"p", "text/plain")
    with pytest.raises(StorageError, match="cannot sign GCS URLs with anonymous credentials"):
        storage.url("private.txt")
    # The key file GOOGLE_APPLICATION_CREDENTIALS names signs, though the client is anonymous.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", gcs_emulator.service_account.key_file)
    assert "X-Goog-Signature=" in storage.url("private.txt")
    gcs_emulator.empty()


def test_a_missing_bucket_says_so(gcs_emulator):
    storage = GCSStorage("no-such-bucket-here", SECRET, client=gcs_emulator.client)
    message = "gcs bucket 'no-such-bucket-here' does not exist"
    with pytest.raises(StorageError, match=message):
        storage.put("a.txt", b"a", "text/plain")
    with pytest.raises(StorageError, match=message):
        storage.put("big.bin", b"b" * (storage.chunk_size + 1), "application/octet-stream")
    with pytest.raises(StorageError, match=message):
        storage.list()


def test_the_settings_build_a_gcs_storage():
    settings = load_settings(
        {
            "sqlalchemy.url": "sqlite://",
            "openevent.secret": SECRET,
            "openevent.storage": "gcs",
            "openevent.storage.gcs_bucket": "conference-files",
            "openevent.storage.gcs_public_objects": "app",
            "openevent.storage.gcs_signing_service_account": "files@p.iam.gserviceaccount.com",
        }
    )
    storage = build_storage(settings)
    assert isinstance(storage, GCSStorage)
    assert storage.bucket_name == "conference-files"
    assert (storage._public_objects, storage._signing_service_account) == (
        "app",
        "files@p.iam.gserviceaccount.com",
    )
    for key, value in [
        ("openevent.storage.gcs_public_objects", "public"),
        ("openevent.storage.gcs_signing_service_account", "not an email"),
    ]:
        with pytest.raises(SettingsError, match=key.replace(".", r"\.")):
            load_settings({**settings, key: value})


def test_one_client_per_process_shared_by_threads(gcs_emulator, monkeypatch):
    storage = GCSStorage(gcs_emulator.bucket, SECRET)
    clients = []
    threads = [threading.Thread(target=lambda: clients.append(storage.client())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in clients}) == 1
    # STORAGE_EMULATOR_HOST: the client talks to the emulator, anonymously.
    assert clients[0].api_endpoint == gcs_emulator.host
    assert isinstance(clients[0]._credentials, AnonymousCredentials)
    assert storage.list() == []
    # A forked process (another pid) builds its own: connections are not shared across fork.
    monkeypatch.setattr(gcs_module.os, "getpid", lambda: -1)
    assert storage.client() is not clients[0]


# Errors: a stand-in for GCS on loopback answers as GCS does when something is wrong.


class FakeGCS(ThreadingHTTPServer):
    """Answers every request with ``status`` and GCS's JSON error body; records requests."""

    def __init__(self, status: int, message: str):
        self.status, self.message, self.requests = status, message, []
        super().__init__(("127.0.0.1", 0), FakeGCSHandler)


class FakeGCSHandler(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.requests.append((self.command, self.path))
        status, message = self.server.status, self.server.message
        body = json.dumps({"error": {"code": status, "message": message, "errors": []}})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


class StaticToken(Credentials):
    """Credentials whose token is always granted (GCS may still refuse it)."""

    def refresh(self, request):
        self.token = "a-token"


@contextmanager
def fake_gcs(status, message):
    server = FakeGCS(status, message)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host = f"http://127.0.0.1:{server.server_address[1]}"
        client = gcs.Client(
            project=None, credentials=StaticToken(), client_options={"api_endpoint": host}
        )
        yield server, client
    finally:
        server.shutdown()
        server.server_close()


def test_permission_denied_names_the_bucket_and_the_role_needed():
    message = "files@p.iam.gserviceaccount.com does not have storage.objects.get access"
    with fake_gcs(403, message) as (_, client):
        storage = GCSStorage("conference-files", SECRET, client=client)
        for call in (
            lambda: storage.stat("a.txt"),
            lambda: storage.exists("a.txt"),
            lambda: storage.put("a.txt", b"a", "text/plain"),
            lambda: storage.list(),
            lambda: storage.delete("a.txt"),
        ):
            with pytest.raises(StorageError) as refused:
                call()
            assert str(refused.value) == (
                "permission denied on gcs bucket 'conference-files' (the service account "
                f"needs roles/storage.objectAdmin on the bucket): {message}"
            )


def test_gcs_telling_the_bucket_is_missing_is_not_a_missing_object():
    with fake_gcs(404, "The specified bucket does not exist.") as (_, client):
        storage = GCSStorage("gone", SECRET, client=client)
        for call in (
            lambda: storage.stat("a.txt"),
            lambda: storage.exists("a.txt"),
            lambda: storage.delete("a.txt"),
            lambda: storage.url("a.txt"),
        ):
            with pytest.raises(StorageError, match="gcs bucket 'gone' does not exist"):
                call()
    with fake_gcs(404, "No such object: gone/a.txt") as (_, client):
        storage = GCSStorage("gone", SECRET, client=client)
        with pytest.raises(ObjectNotFound):
            storage.stat("a.txt")
        assert not storage.exists("a.txt")
        storage.delete("a.txt")


def test_refused_credentials_say_so():
    with fake_gcs(401, "Invalid Credentials") as (_, client):
        storage = GCSStorage("b", SECRET, client=client)
        with pytest.raises(StorageError, match=r"refused the credentials: .*Invalid Credentials"):
            storage.stat("a.txt")


def test_public_acls_are_asked_for_and_their_refusal_explained():
    refusal = "Cannot insert legacy ACL for an object when uniform bucket-level access is enabled."
    with fake_gcs(400, refusal) as (server, client):
        storage = GCSStorage("b", SECRET, client=client)
        with pytest.raises(StorageError, match=r"set openevent\.storage\.gcs_public_objects = app"):
            storage.put("a.png", b"png", "image/png", public=True)
        with pytest.raises(StorageError):
            storage.put("b.png", b"png", "image/png")
        app = GCSStorage("b", SECRET, client=client, public_objects="app")
        with pytest.raises(StorageError):
            app.put("c.png", b"png", "image/png", public=True)
    uploads = [path for method, path in server.requests if method == "POST"]
    acls = [parse_qs(urlsplit(path).query).get("predefinedAcl") for path in uploads]
    assert acls == [["publicRead"], ["projectPrivate"], None]


def test_messages_are_one_line():
    with fake_gcs(403, "first line\nsecond line") as (_, client):
        storage = GCSStorage("b", SECRET, client=client)
        with pytest.raises(StorageError) as refused:
            storage.stat("a.txt")
    assert "\n" not in str(refused.value)
    assert str(refused.value).endswith("first line second line")


def test_signed_urls_take_the_configured_signing_account(gcs_emulator, monkeypatch):
    """With credentials that hold no key, IAM signBlob signs as the configured account."""
    calls = []

    class TokenOnly(Credentials):
        """A token and no private key, as a GCE or Cloud Run service account has."""

        def __init__(self):
            super().__init__()
            self.token = "a-token"

        def refresh(self, request):
            raise AssertionError("the token is valid: no refresh")

    def sign_blob(message, access_token, service_account_email, *args):
        calls.append((access_token, service_account_email))
        return base64.b64encode(b"signature from IAM").decode()

    monkeypatch.setattr("google.cloud.storage._signing._sign_message", sign_blob)
    storage = GCSStorage(
        gcs_emulator.bucket,
        SECRET,
        client=gcs_emulator.client,
        signing_credentials=TokenOnly(),
        signing_service_account="signer@p.iam.gserviceaccount.com",
    )
    storage.put("p.txt", b"p", "text/plain")
    query = v4_query(storage.url("p.txt"))
    assert calls == [("a-token", "signer@p.iam.gserviceaccount.com")]
    assert query["X-Goog-Credential"].startswith("signer@p.iam.gserviceaccount.com/")
    assert query["X-Goog-Signature"] == b"signature from IAM".hex()
    gcs_emulator.empty()


def test_the_upload_is_resumable_and_streams_from_short_reads(gcs_emulator):
    """A stream handing out a few KiB at a time (a request body, a pipe) still fills whole
    chunks: a short chunk would end the upload early."""
    storage = gcs_emulator.storage(SECRET, chunk_size=256 * 1024)
    content = bytes(range(256)) * 4096 + b"tail"  # 1 MiB and 4 bytes: five chunks

    class Trickle:
        def __init__(self):
            self.offset = 0

        def read(self, n=-1):
            n = 3000 if n < 0 else min(n, 3000)
            chunk = content[self.offset : self.offset + n]
            self.offset += len(chunk)
            return chunk

    started = time.monotonic()
    stored = storage.put("trickle.bin", Trickle(), "application/octet-stream")
    assert stored.size == len(content)
    with storage.open("trickle.bin") as stream:
        assert stream.read() == content
    assert time.monotonic() - started < 30
    gcs_emulator.empty()
