"""The storage contract: every backend behaves the same (run against memory, local and gcs on
the GCS emulator)."""

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from signed_url_checks import URLChecker

from openevent.storage import InvalidKey, LocalStorage, MemoryStorage, ObjectNotFound, StoredFile
from openevent.storage.gcs import CHUNK_SIZE, GCSStorage
from openevent.storage.signing import signed_url

SECRET = "a test secret of some length"


@pytest.fixture(params=["memory", "local", "gcs"])
def storage(request, tmp_path):
    if request.param == "memory":
        yield MemoryStorage(SECRET)
    elif request.param == "local":
        yield LocalStorage(tmp_path / "files", SECRET)
    else:
        emulator = request.getfixturevalue("gcs_emulator")
        emulator.empty()
        # 1 MiB chunks: objects from 1 MiB on take the resumable upload, smaller ones one request.
        yield emulator.storage(SECRET, chunk_size=1024 * 1024)
        emulator.empty()


def read_all(storage, key) -> bytes:
    with storage.open(key) as stream:
        return stream.read()


def test_put_open_exists_stat_delete(storage):
    before = datetime.now(UTC).replace(microsecond=0)
    stored = storage.put("events/1/notes.txt", b"hello", "text/plain", cache_control="max-age=60")
    assert before <= stored.last_modified <= datetime.now(UTC)
    assert dataclasses.replace(stored, last_modified=None) == StoredFile(
        key="events/1/notes.txt",
        size=5,
        content_type="text/plain",
        etag=hashlib.md5(b"hello").hexdigest(),
        public=False,
        cache_control="max-age=60",
    )
    assert storage.exists("events/1/notes.txt")
    assert storage.stat("events/1/notes.txt") == stored
    assert read_all(storage, "events/1/notes.txt") == b"hello"
    storage.delete("events/1/notes.txt")
    assert not storage.exists("events/1/notes.txt")
    with pytest.raises(ObjectNotFound):
        storage.open("events/1/notes.txt")
    with pytest.raises(ObjectNotFound):
        storage.stat("events/1/notes.txt")


def test_put_takes_a_stream(storage, tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"\x00\x01binary")
    with source.open("rb") as file:
        stored = storage.put("a.bin", file, "application/octet-stream")
    assert stored.size == 8
    assert read_all(storage, "a.bin") == b"\x00\x01binary"


@pytest.mark.parametrize("size", [0, 1, 2**20 - 1, 2**20, 2**20 + 1, 2 * 2**20])
def test_sizes_around_chunk_boundaries(storage, size):
    """Empty, and around the 1 MiB chunks the gcs fixture uploads in (one request below a
    chunk, a resumable upload from one, ending exactly on a chunk's end or not)."""
    content = bytes(range(251)) * (size // 251) + bytes(range(size % 251))
    stored = storage.put("sized.bin", content, "application/octet-stream")
    assert (stored.size, stored.etag) == (size, hashlib.md5(content).hexdigest())
    assert read_all(storage, "sized.bin") == content


def test_put_refuses_text(storage):
    with pytest.raises(TypeError):
        storage.put("a.txt", "text, not bytes", "text/plain")
    assert not storage.exists("a.txt")


def test_overwrite_replaces_content_and_metadata(storage):
    storage.put("logo.png", b"old", "image/png", public=True)
    stored = storage.put("logo.png", b"newer", "image/webp")
    assert read_all(storage, "logo.png") == b"newer"
    assert storage.stat("logo.png") == stored
    assert (stored.content_type, stored.public, stored.size) == ("image/webp", False, 5)
    assert [s.key for s in storage.list()] == ["logo.png"]


def test_delete_of_a_missing_key_is_not_an_error(storage):
    storage.delete("never/stored.txt")
    storage.put("kept.txt", b"x", "text/plain")
    storage.delete("kept.txt/under")  # a "folder" of an object: still just missing
    storage.delete("missing.txt")
    assert storage.exists("kept.txt")


def test_list_by_prefix_in_key_order(storage):
    for key in ["b/2.txt", "a/1.txt", "a/sub/3.txt", "ab.txt", "c.txt"]:
        storage.put(key, key.encode(), "text/plain")
    everything = ["a/1.txt", "a/sub/3.txt", "ab.txt", "b/2.txt", "c.txt"]
    assert [s.key for s in storage.list()] == everything
    assert [s.key for s in storage.list("a/")] == ["a/1.txt", "a/sub/3.txt"]
    assert [s.key for s in storage.list("a")] == ["a/1.txt", "a/sub/3.txt", "ab.txt"]
    assert [s.key for s in storage.list("a/s")] == ["a/sub/3.txt"]
    assert storage.list("nothing/") == []
    assert storage.list("a/1.txt")[0].size == len(b"a/1.txt")


@pytest.mark.parametrize(
    "key",
    [
        "événements/été 2026/programme final.pdf",
        "日本語/ファイル.txt",
        "with space.txt",
        "emoji 🎉.png",
        "é" * 100,  # a 200-byte segment: the longest allowed
    ],
)
def test_unicode_and_spaces_in_keys(storage, key):
    storage.put(key, b"content", "application/pdf")
    assert storage.exists(key)
    assert read_all(storage, key) == b"content"
    assert [s.key for s in storage.list()] == [key]
    storage.delete(key)
    assert not storage.exists(key)


REFUSED_KEYS = {
    "empty": "",
    "absolute": "/etc/passwd",
    "parent": "../outside.txt",
    "parent inside": "a/../../b.txt",
    "parent alone": "..",
    "dot segment": "a/./b.txt",
    "hidden segment": "a/.b.txt",
    "empty segment": "a//b.txt",
    "trailing slash": "a/b/",
    "backslash": "a\\b.txt",
    "backslash traversal": "..\\..\\b.txt",
    "nul": "a\x00b.txt",
    "newline": "a\nb.txt",
    "delete character": "a\x7fb.txt",
    "c1 control": "a\x85b.txt",
    "line separator": "a\u2028b.txt",
    "lone surrogate": "a\ud800b.txt",
    "too long": "a/" * 510 + "b.txt",  # 1025 bytes
    "segment too long": "é" * 101,
    "not a string": b"bytes.txt",
}


@pytest.mark.parametrize("key", REFUSED_KEYS.values(), ids=REFUSED_KEYS.keys())
def test_refused_keys(storage, key, tmp_path):
    with pytest.raises(InvalidKey) as refused:
        storage.put(key, b"x", "text/plain")
    assert isinstance(refused.value, ValueError)
    assert str(refused.value)  # says why
    for method in (storage.open, storage.stat, storage.exists, storage.delete, storage.url):
        with pytest.raises(InvalidKey):
            method(key)
    assert storage.list() == []
    assert not (tmp_path / "outside.txt").exists()


@pytest.mark.parametrize("prefix", ["/a", "../", "a/../", "a//", "a\\", "a\x00", ".hidden"])
def test_refused_prefixes(storage, prefix):
    with pytest.raises(InvalidKey):
        storage.list(prefix)


PROBE = Path(__file__).with_name("large_object_probe.py")
LARGE = 50 * 1024 * 1024


@pytest.mark.parametrize("backend", ["memory", "local", "gcs"])
def test_a_50_mb_object_streams_in_and_out_in_bounded_memory(backend, request, tmp_path):
    """Put from a generated stream and read back in 1 MiB chunks, in a fresh process whose
    peak RSS growth is measured (large_object_probe.py)."""
    environ = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    where = str(tmp_path / "files")
    if backend == "gcs":
        emulator = request.getfixturevalue("gcs_emulator")
        environ["STORAGE_EMULATOR_HOST"], where = emulator.host, emulator.bucket
    probe = subprocess.run(
        [sys.executable, str(PROBE), backend, where, str(LARGE)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    result = json.loads(probe.stdout)
    assert result["stored_size"] == LARGE
    assert result["read"] == result["written"]
    assert result["largest_chunk"] == 1024 * 1024
    growth = result["growth"]
    if backend == "memory":
        # The memory storage keeps the object itself, and nothing more than one copy.
        assert LARGE <= growth < 1.25 * LARGE
    elif backend == "local":
        assert growth < LARGE / 8
    else:
        # Uploads and downloads hold a few 8 MiB chunks (the client keeps the last chunk's
        # request while it sends the next), whatever the object's size.
        assert growth < 4 * CHUNK_SIZE < 0.65 * LARGE


def test_concurrent_writers_of_one_key_leave_one_whole_object(storage):
    size = 2 * 1024 * 1024
    writers = 6
    barrier = threading.Barrier(writers)

    class Filler:
        """Bytes of one value, handed out in small reads so writers interleave."""

        def __init__(self, value):
            self.value, self.remaining = value, size

        def read(self, n=-1):
            n = min(16 * 1024 if n < 0 else n, 16 * 1024, self.remaining)
            self.remaining -= n
            return bytes([self.value]) * n

    def write(value):
        barrier.wait()
        storage.put("shared.bin", Filler(value), f"application/x-writer-{value}")

    threads = [threading.Thread(target=write, args=(value,)) for value in range(1, writers + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    content = read_all(storage, "shared.bin")
    assert len(content) == size
    assert len(set(content)) == 1  # one writer's bytes, never a mix
    winner = content[0]
    stored = storage.stat("shared.bin")
    # The metadata is the winner's too.
    assert stored.content_type == f"application/x-writer-{winner}"
    assert stored.etag == hashlib.md5(content).hexdigest()
    assert [s.key for s in storage.list()] == ["shared.bin"]


@pytest.fixture
def urls(storage, request):
    """Reads and checks ``storage``'s signed URLs (signed_url_checks.py)."""
    if isinstance(storage, GCSStorage):
        account = request.getfixturevalue("gcs_emulator").service_account
        return URLChecker(storage, storage.bucket_name, account.public_key)
    return URLChecker(storage)


def test_public_objects_have_a_plain_url(storage):
    storage.put("images/a b é.png", b"png", "image/png", public=True)
    url = storage.url("images/a b é.png")
    # The app's /files/ for memory and local; GCS's own URL (here the emulator's) for gcs.
    assert url.endswith("/images/a%20b%20%C3%A9.png")
    assert "?" not in url
    with pytest.raises(ObjectNotFound):
        storage.url("images/missing.png")


def test_private_objects_have_a_signed_expiring_url(storage, urls):
    storage.put("private/ticket 1.pdf", b"pdf", "application/pdf")
    url = storage.url("private/ticket 1.pdf", expires=60)
    assert urlsplit(url).path.endswith("/private/ticket%201.pdf")
    signed = urls.parse(url)
    assert signed.key == "private/ticket 1.pdf"
    assert abs(signed.expires_at - (time.time() + 60)) < 5
    assert urls.valid(url)
    # Expired: one second past the expiry time.
    assert not urls.valid(url, now=signed.expires_at + 1)
    with pytest.raises(ObjectNotFound):
        storage.url("private/missing.pdf")


def test_tampered_signed_urls_are_refused(storage, urls):
    storage.put("private/a.pdf", b"a", "application/pdf")
    storage.put("private/b.pdf", b"b", "application/pdf")
    url = storage.url("private/a.pdf")
    assert urls.valid(url)
    for change, tampered in urls.tampered(url, other_key="private/b.pdf").items():
        assert not urls.valid(tampered), change


def test_signed_url_default_expiry_is_an_hour(storage, urls):
    storage.put("p.txt", b"p", "text/plain")
    assert abs(urls.parse(storage.url("p.txt")).expires_at - (time.time() + 3600)) < 5
    assert (
        abs(
            urls.parse(storage.url("p.txt", expires=timedelta(minutes=5))).expires_at
            - (time.time() + 300)
        )
        < 5
    )
    for never in (0, -1, timedelta(0)):
        with pytest.raises(ValueError):
            storage.url("p.txt", expires=never)


def signed_parts(url):
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path, query["expires"][0], query["signature"][0]


def test_verify_signed_checks_the_apps_files_signatures(storage):
    """Every backend checks the app's own /files signatures (the /files route asks it), gcs
    included: a signed /files URL works whichever backend serves it."""
    _, expires, signature = signed_parts(signed_url(SECRET, "private/a.pdf", 60))
    assert storage.verify_signed("private/a.pdf", expires, signature)
    assert not storage.verify_signed("private/a.pdf", expires, signature, now=int(expires) + 1)
    assert not storage.verify_signed("private/b.pdf", expires, signature)  # another key
    assert not storage.verify_signed("private/a.pdf", str(int(expires) + 3600), signature)
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert not storage.verify_signed("private/a.pdf", expires, flipped)
    assert not storage.verify_signed("private/a.pdf", "soon", signature)
    assert not storage.verify_signed("private/a.pdf", expires, "")
    assert not storage.verify_signed("private/a.pdf", None, None)
    # Another secret's signature does not pass.
    _, other_expires, other_signature = signed_parts(
        signed_url("another secret, also long", "private/a.pdf", 60)
    )
    assert not storage.verify_signed("private/a.pdf", other_expires, other_signature)


# Local only: what a filesystem adds.


def test_local_failed_write_leaves_no_half_object(tmp_path):
    storage = LocalStorage(tmp_path / "files", SECRET)
    storage.put("a.bin", b"whole old content", "application/octet-stream")

    class Failing:
        def __init__(self):
            self.calls = 0

        def read(self, n=-1):
            self.calls += 1
            if self.calls > 3:
                raise OSError("connection reset")
            return b"x" * 1024

    with pytest.raises(OSError, match="connection reset"):
        storage.put("a.bin", Failing(), "application/octet-stream")
    with pytest.raises(OSError):
        storage.put("new.bin", Failing(), "application/octet-stream")
    assert read_all(storage, "a.bin") == b"whole old content"
    assert not storage.exists("new.bin")
    assert sorted(os.listdir(tmp_path / "files")) == [".a.bin.meta.json", "a.bin"]


def test_local_keys_cannot_escape_the_root_through_a_symlink(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "files"
    root.mkdir()
    (root / "link").symlink_to(outside)
    storage = LocalStorage(root, SECRET)
    with pytest.raises(InvalidKey, match="outside the storage folder"):
        storage.put("link/x.txt", b"x", "text/plain")
    assert list(outside.iterdir()) == []


def test_local_object_and_folder_of_one_name(tmp_path):
    storage = LocalStorage(tmp_path / "files", SECRET)
    storage.put("a", b"object", "text/plain")
    with pytest.raises(InvalidKey, match="a folder of it is an object"):
        storage.put("a/b", b"x", "text/plain")
    storage.put("c/d", b"x", "text/plain")
    with pytest.raises(InvalidKey, match="is a folder of other objects"):
        storage.put("c", b"x", "text/plain")
    assert not storage.exists("c")
    assert [s.key for s in storage.list()] == ["a", "c/d"]
