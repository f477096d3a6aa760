"""``openevent storage check CONFIG``: one line per step, the reason of a failure, exit status."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from openevent.cli import main
from openevent.storage.gcs import GCSStorage

# The openevent command, in a process of its own.
COMMAND = "import sys; from openevent.cli import main; sys.exit(main())"
STEPS = [
    "write a probe object",
    "read it back",
    "find it in a listing",
    "sign a URL for it",
    "write a public probe object and get its URL",
    "delete the probe objects",
]


def run_check(config, capsys):
    status = main(["storage", "check", config])
    return status, capsys.readouterr().out.splitlines()


def assert_works(status, lines):
    assert status == 0, lines
    assert [line[:8] for line in lines[1:-1]] == ["ok      "] * len(STEPS)
    assert [line[8:].split(" (")[0] for line in lines[1:-1]] == STEPS
    assert lines[-1] == "storage works"


def test_memory(ini_file, capsys):
    status, lines = run_check(ini_file(), capsys)
    assert lines[0] == "storage: memory (this process only: nothing persists)"
    assert_works(status, lines)
    assert "(the app's /files signature verifies)" in lines[4]


def test_local_leaves_nothing_behind(ini_file, capsys, tmp_path, monkeypatch):
    folder = tmp_path / "files"
    monkeypatch.setenv("OPENEVENT_STORAGE", "local")
    monkeypatch.setenv("OPENEVENT_STORAGE_LOCAL_PATH", str(folder))
    status, lines = run_check(ini_file(), capsys)
    assert lines[0] == f"storage: local, folder {folder}"
    assert_works(status, lines)
    assert not [path for path in folder.rglob("*") if path.is_file()]


def test_local_failure_says_why_and_exits_1(ini_file, capsys, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("OPENEVENT_STORAGE", "local")
    monkeypatch.setenv("OPENEVENT_STORAGE_LOCAL_PATH", str(tmp_path / "a-file"))
    status, lines = run_check(ini_file(), capsys)
    assert status == 1
    assert lines[1].startswith("failed  write a probe object: ")
    assert len(lines) == 3  # nothing was written: nothing else is tried
    assert lines[2] == "storage does not work: " + lines[1].split(": ", 1)[1]


def gcs_ini(ini_file, monkeypatch, bucket):
    """An ini file whose storage is gcs on ``bucket`` (environment variables, which win)."""
    monkeypatch.setenv("OPENEVENT_STORAGE", "gcs")
    monkeypatch.setenv("OPENEVENT_STORAGE_GCS_BUCKET", bucket)
    return ini_file()


def test_gcs_on_the_emulator(ini_file, capsys, gcs_emulator, monkeypatch):
    # The emulator's client is anonymous; the throwaway key signs, as a key file would.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", gcs_emulator.service_account.key_file)
    gcs_emulator.empty()
    status, lines = run_check(gcs_ini(ini_file, monkeypatch, gcs_emulator.bucket), capsys)
    assert lines[0] == f"storage: gcs, bucket {gcs_emulator.bucket!r}"
    assert_works(status, lines)
    assert lines[4] == "ok      sign a URL for it (fetched it)"
    assert f"({gcs_emulator.host}/{gcs_emulator.bucket}/openevent-storage-check/" in lines[5]
    assert GCSStorage(gcs_emulator.bucket, "s", client=gcs_emulator.client).list() == []


def test_gcs_missing_bucket(ini_file, capsys, gcs_emulator, monkeypatch):
    status, lines = run_check(gcs_ini(ini_file, monkeypatch, "no-such-bucket"), capsys)
    reason = "gcs bucket 'no-such-bucket' does not exist (openevent.storage.gcs_bucket)"
    assert status == 1
    assert lines[1:] == [
        f"failed  write a probe object: {reason}",
        f"storage does not work: {reason}",
    ]


def test_gcs_without_a_key_to_sign_with(ini_file, capsys, gcs_emulator, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    gcs_emulator.empty()
    status, lines = run_check(gcs_ini(ini_file, monkeypatch, gcs_emulator.bucket), capsys)
    assert status == 1
    assert [line[:8] for line in lines[1:4]] == ["ok      "] * 3
    assert lines[4].startswith("failed  sign a URL for it: cannot sign GCS URLs")
    # The probe written is deleted all the same.
    assert lines[5] == "ok      delete the probe objects"
    assert lines[6].startswith("storage does not work: cannot sign GCS URLs")
    assert GCSStorage(gcs_emulator.bucket, "s", client=gcs_emulator.client).list() == []


def test_gcs_missing_credentials(ini_file, tmp_path):
    """No emulator, no key file, no gcloud login, not on GCE: one line says what to set."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in {"STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS"}
    }
    environ.update(
        {
            "OPENEVENT_STORAGE": "gcs",
            "OPENEVENT_STORAGE_GCS_BUCKET": "conference-files",
            "HOME": str(tmp_path),
            "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
            # Never probe the metadata server (and if it were, only a closed loopback port).
            "NO_GCE_CHECK": "true",
            "GCE_METADATA_HOST": "127.0.0.1:9",
            "GCE_METADATA_IP": "127.0.0.1:9",
        }
    )
    config = ini_file()
    checked = subprocess.run(
        [sys.executable, "-c", COMMAND, "storage", "check", config],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )
    lines = checked.stdout.splitlines()
    assert checked.returncode == 1, (lines, checked.stderr)
    reason = "no Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS"
    assert lines[1].startswith(f"failed  write a probe object: {reason}")
    assert lines[2].startswith(f"storage does not work: {reason}")


class Refusing(BaseHTTPRequestHandler):
    """Answers every request as GCS does a service account without access to the bucket."""

    def _refuse(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        message = "files@p.iam.gserviceaccount.com does not have storage.objects.create access"
        body = json.dumps({"error": {"code": 403, "message": message}}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _refuse

    def log_message(self, *args):
        pass


def test_gcs_permission_denied(ini_file, capsys, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{server.server_address[1]}")
    try:
        status, lines = run_check(gcs_ini(ini_file, monkeypatch, "conference-files"), capsys)
    finally:
        server.shutdown()
        server.server_close()
    assert status == 1
    assert lines[1:] == [
        "failed  write a probe object: permission denied on gcs bucket 'conference-files' "
        "(the service account needs roles/storage.objectAdmin on the bucket): "
        "files@p.iam.gserviceaccount.com does not have storage.objects.create access",
        "storage does not work: permission denied on gcs bucket 'conference-files' "
        "(the service account needs roles/storage.objectAdmin on the bucket): "
        "files@p.iam.gserviceaccount.com does not have storage.objects.create access",
    ]


def test_production_ini_on_the_emulator(gcs_emulator):
    """production.ini names gcs: with its variables set, the check goes through. (In a process
    of its own: production.ini's logging configuration would stay in this one.)"""
    production = Path(__file__).parents[2] / "production.ini"
    environ = {
        **{name: value for name, value in os.environ.items() if name != "OPENEVENT_STORAGE"},
        "OPENEVENT_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/unused",
        "OPENEVENT_SECRET": "a-test-secret-of-enough-length",
        "OPENEVENT_BROKER_URL": "stub",
        "OPENEVENT_STORAGE_GCS_BUCKET": gcs_emulator.bucket,
        "GOOGLE_APPLICATION_CREDENTIALS": gcs_emulator.service_account.key_file,
    }
    gcs_emulator.empty()
    checked = subprocess.run(
        [sys.executable, "-c", COMMAND, "storage", "check", str(production)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )
    lines = checked.stdout.splitlines()
    assert lines[0] == f"storage: gcs, bucket {gcs_emulator.bucket!r}"
    assert_works(checked.returncode, lines)
