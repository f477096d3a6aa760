"""``openevent storage check``: does the configured storage work, and if not, what is wrong.

It writes a probe object, reads it back, finds it in a listing, gets a signed URL for it (and
fetches it, when the URL is the storage service's own rather than the app's ``/files``),
writes a public probe object, and deletes both: one line per step, ``ok`` or ``failed`` with
the reason, and a last line saying whether the storage works. The exit status is 1 when a step
failed. It builds the storage alone, as the app would, and touches no database.
"""

import hashlib
import secrets
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from openevent.cli.common import add_config_argument, load_config
from openevent.storage import STORAGE_KEY, build_storage
from openevent.storage.signing import FILES_PATH

PROBE_FOLDER = "openevent-storage-check"
_FETCH_TIMEOUT = 30


def register(commands) -> None:
    storage = commands.add_parser(
        "storage", help="file storage", description="Check the file storage CONFIG configures."
    )
    actions = storage.add_subparsers(title="actions", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="write, read back, list, sign a URL for and delete a probe object",
        description="Write a probe object under openevent-storage-check/, read it back, list "
        "it, sign a URL for it, write a public one, and delete both, printing ok or failed for "
        "each step and the reason of the first failure. Exit status 1 if a step failed.",
    )
    add_config_argument(check)
    check.set_defaults(handler=_check)


def _describe(settings) -> str:
    backend = settings[STORAGE_KEY]
    if backend == "local":
        return f"local, folder {settings['openevent.storage.local_path']}"
    if backend == "gcs":
        return f"gcs, bucket {settings['openevent.storage.gcs_bucket']!r}"
    if backend == "memory":
        return "memory (this process only: nothing persists)"
    return backend


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    if isinstance(error, RuntimeError) and text:  # StorageError and this module's: sentences
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _check_signed_url(storage, key: str, content: bytes) -> str:
    """What the URL is and how it was checked; raises if it does not serve ``content``."""
    url = storage.url(key, expires=300)
    parts = urlsplit(url)
    if parts.scheme in {"http", "https"}:
        # The storage service's own signed URL: it must serve the object to anyone holding it.
        response = requests.get(url, timeout=_FETCH_TIMEOUT)
        if response.status_code != 200:
            first = " ".join(response.text.split())[:200]
            raise RuntimeError(f"the signed URL was refused: HTTP {response.status_code} {first}")
        if response.content != content:
            raise RuntimeError("the signed URL served other content than the probe's")
        return "fetched it"
    query = parse_qs(parts.query)
    signed_key = unquote(parts.path[len(FILES_PATH) :])
    if not parts.path.startswith(FILES_PATH) or not storage.verify_signed(
        signed_key, query.get("expires", [None])[0], query.get("signature", [None])[0]
    ):
        raise RuntimeError(f"the storage does not accept its own signed URL {url}")
    return "the app's /files signature verifies"


def _check(args) -> int:
    settings = load_config(args.config_uri)
    print(f"storage: {_describe(settings)}")
    storage = build_storage(settings)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"{PROBE_FOLDER}/{stamp}-{secrets.token_hex(4)}.txt"
    public_key = key.replace(".txt", "-public.txt")
    content = f"openevent storage check {stamp}\n".encode()
    written: list[str] = []

    def write():
        stored = storage.put(key, content, "text/plain")
        written.append(key)
        if stored.etag != hashlib.md5(content, usedforsecurity=False).hexdigest():
            raise RuntimeError(f"the stored etag {stored.etag} is not the content's MD5")
        return key

    def read_back():
        with storage.open(key) as stream:
            if stream.read() != content:
                raise RuntimeError("the probe read back differs from what was written")
        return f"{len(content)} bytes"

    def listed():
        if key not in [stored.key for stored in storage.list(f"{PROBE_FOLDER}/")]:
            raise RuntimeError(f"the probe is missing from the listing of {PROBE_FOLDER}/")
        return ""

    def write_public():
        storage.put(public_key, content, "text/plain", public=True)
        written.append(public_key)
        return storage.url(public_key)

    def delete():
        for name in list(written):
            storage.delete(name)
            if storage.exists(name):
                raise RuntimeError(f"{name} is still there after its delete")
            written.remove(name)
        return ""

    steps = [
        ("write a probe object", write),
        ("read it back", read_back),
        ("find it in a listing", listed),
        ("sign a URL for it", lambda: _check_signed_url(storage, key, content)),
        ("write a public probe object and get its URL", write_public),
        ("delete the probe objects", delete),
    ]
    failure = None
    for name, step in steps:
        if failure is not None and not (step is delete and written):
            continue
        try:
            detail = step()
        except Exception as error:  # the point is to report any failure in one line
            reason = _one_line(error)
            print(f"failed  {name}: {reason}")
            failure = failure or reason
        else:
            print(f"ok      {name}" + (f" ({detail})" if detail else ""))
    if failure is not None:
        print(f"storage does not work: {failure}")
        return 1
    print("storage works")
    return 0
