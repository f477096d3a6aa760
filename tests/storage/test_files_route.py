"""GET /files/{key}: public objects to anyone, private ones only through a valid signed URL."""

import hashlib
import time
from wsgiref.handlers import format_date_time

import pytest

from openevent.storage import STORAGE_KEY, LocalStorage
from openevent.storage.signing import signed_url


@pytest.fixture(params=["memory", "local", "gcs"])
def storage(request, registry, memory_storage, tmp_path):
    """The app's storage for the test: the memory one, a local one in a folder of its own, or
    a gcs one on the emulator whose public objects the app serves (gcs_public_objects = app)."""
    if request.param == "memory":
        yield memory_storage
        return
    secret = registry.settings["openevent.secret"]
    if request.param == "local":
        chosen = LocalStorage(tmp_path / "files", secret)
    else:
        emulator = request.getfixturevalue("gcs_emulator")
        emulator.empty()
        chosen = emulator.storage(secret, public_objects="app")
    registry[STORAGE_KEY] = chosen  # memory_storage restores the app's own afterwards
    yield chosen
    if request.param == "gcs":
        emulator.empty()


def files_url(storage, registry, key):
    """The /files URL of ``key``: ``url()`` for a public object; for a private one the app's
    signed URL (gcs signs GCS URLs of its own, but serves signed /files URLs as well)."""
    if storage.stat(key).public:
        return storage.url(key)
    return signed_url(registry.settings["openevent.secret"], key)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def test_a_public_image_is_served_inline_with_its_type_and_etag(testapp, storage, registry):
    storage.put("events/1/a logo é.png", PNG, "image/png", public=True, cache_control="max-age=60")
    url = files_url(storage, registry, "events/1/a logo é.png")
    response = testapp.get(url, status=200)
    assert response.body == PNG
    assert response.content_type == "image/png"
    assert response.headers["Content-Length"] == str(len(PNG))
    assert response.headers["ETag"] == f'"{hashlib.md5(PNG).hexdigest()}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "max-age=60"
    assert "Content-Disposition" not in response.headers
    head = testapp.head(url, status=200)
    assert head.body == b""
    assert head.headers["Content-Length"] == str(len(PNG))


def test_conditional_get_answers_304(testapp, storage):
    storage.put("a.png", PNG, "image/png", public=True)
    etag = testapp.get("/files/a.png").headers["ETag"]
    response = testapp.get("/files/a.png", headers={"If-None-Match": etag}, status=304)
    assert response.body == b""
    testapp.get("/files/a.png", headers={"If-None-Match": '"other"'}, status=200)


def test_last_modified_answers_if_modified_since(testapp, storage):
    stored = storage.put("a.png", PNG, "image/png", public=True)
    response = testapp.get("/files/a.png")
    assert response.last_modified == stored.last_modified.replace(microsecond=0)
    since = {"If-Modified-Since": response.headers["Last-Modified"]}
    testapp.get("/files/a.png", headers=since, status=304)
    earlier = format_date_time(stored.last_modified.timestamp() - 60)
    testapp.get("/files/a.png", headers={"If-Modified-Since": earlier}, status=200)


def test_range_requests_get_the_bytes_asked_for(testapp, storage):
    storage.put("a.bin", bytes(range(256)), "application/octet-stream", public=True)
    response = testapp.get("/files/a.bin", headers={"Range": "bytes=10-19"}, status=206)
    assert response.body == bytes(range(10, 20))
    assert response.headers["Content-Range"] == "bytes 10-19/256"


@pytest.mark.parametrize(
    "content_type", ["text/html", "image/svg+xml", "application/pdf", "text/html; charset=utf-8"]
)
def test_anything_but_a_safe_image_is_an_attachment(testapp, storage, content_type):
    storage.put("page", b"<script>alert(1)</script>", content_type, public=True)
    response = testapp.get("/files/page", status=200)
    assert response.headers["Content-Disposition"] == "attachment"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_private_object_needs_its_signed_url(testapp, storage, registry):
    storage.put("exports/1/export.zip", b"zip", "application/zip")
    response = testapp.get(files_url(storage, registry, "exports/1/export.zip"), status=200)
    assert response.body == b"zip"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"] == "attachment"
    # Unsigned: as if it did not exist, so unsigned requests learn nothing.
    unsigned = testapp.get("/files/exports/1/export.zip", status=404)
    assert unsigned.json["errors"][0]["code"] == "not-found"
    missing = testapp.get("/files/exports/1/missing.zip", status=404).json["errors"][0]
    assert missing == unsigned.json["errors"][0] | {"detail": missing["detail"]}


def test_tampered_or_expired_signatures_are_403(testapp, storage, registry):
    storage.put("private/a.zip", b"a", "application/zip")
    storage.put("private/b.zip", b"b", "application/zip")
    good = files_url(storage, registry, "private/a.zip")
    query = good.split("?")[1]
    expires = int(query.split("expires=")[1].split("&")[0])
    signature = query.split("signature=")[1]
    bad = [
        f"/files/private/b.zip?{query}",  # another key
        good.replace(f"expires={expires}", f"expires={expires + 60}"),
        good.replace(signature, "0" * len(signature)),
        "/files/private/a.zip?expires=soon&signature=x",
        "/files/private/a.zip?signature=" + signature,
        "/files/private/missing.zip?" + query,
    ]
    for url in bad:
        response = testapp.get(url, status=403)
        assert response.json["errors"][0]["code"] == "forbidden", url
        assert response.json["errors"][0]["source"] == {"parameter": "signature"}
    # Signed an hour ago for an hour and a second: expired a second ago.
    secret = registry.settings["openevent.secret"]
    expired = signed_url(secret, "private/a.zip", 3601, now=time.time() - 3602)
    assert testapp.get(expired, status=403).json["errors"][0]["code"] == "forbidden"


@pytest.mark.parametrize("path", ["/files/", "/files/a/../b", "/files/a%00b", "/files/missing"])
def test_bad_or_missing_keys_are_404(testapp, storage, path):
    storage.put("b", b"b", "text/plain", public=True)
    response = testapp.get(path, status=404)
    assert response.json["errors"][0]["status"] == "404"


class _SignsElsewhere:
    """A plugin's backend whose URLs do not point at /files: no ``verify_signed``."""

    def __init__(self, storage):
        self._storage = storage

    def __getattr__(self, name):
        if name == "verify_signed":
            raise AttributeError(name)
        return getattr(self._storage, name)


def test_a_backend_that_signs_elsewhere_refuses_signed_files_urls(
    testapp, registry, memory_storage
):
    registry[STORAGE_KEY] = _SignsElsewhere(memory_storage)  # memory_storage restores the app's
    memory_storage.put("public/a.png", PNG, "image/png", public=True)
    assert testapp.get("/files/public/a.png").body == PNG
    for query in ("signature=x&expires=1", "expires=1", "signature=x"):
        response = testapp.get(f"/files/public/a.png?{query}", status=403)
        assert response.json["errors"][0]["source"] == {"parameter": "signature"}
