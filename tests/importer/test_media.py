"""An export's media files: into storage under keys of the new event, their URLs rewritten;
missing ones reported; absolute URLs kept; nothing left in storage by an import that fails."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from openevent.importer import ImportFailed, import_archive
from openevent.importer.media import content_type
from openevent.models import Event, Session, Speaker
from openevent.testing import make_user

BASE = "https://events.example.org"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


# A real image: the images plugin, active in the test app, stores photos and logos itself.
PNG = _png()
MP3 = b"ID3\x03 sound"
PDF = b"%PDF-1.4\n" + b"slides " * 50_000  # larger than a read buffer: streamed in chunks
EVENT = {
    "id": 1,
    "name": "With media",
    "starts-at": "2026-05-01T09:00:00+00:00",
    "ends-at": "2026-05-02T18:00:00+00:00",
    "timezone": "UTC",
}


@pytest.fixture
def owner(dbsession):
    return make_user(dbsession, password=None)


def export(tmp_path, *, event=None, sessions=(), speakers=(), media=None, folder="") -> str:
    """A zip of the collections and ``media`` (member -> bytes), in ``folder`` if given."""
    path = tmp_path / f"export-{len(list(tmp_path.iterdir()))}.zip"
    with zipfile.ZipFile(path, "w") as archive:
        members = {
            "event": json.dumps({**EVENT, **(event or {})}),
            "sessions": json.dumps(list(sessions)),
            "speakers": json.dumps(list(speakers)),
            **(media or {}),
        }
        for name, data in members.items():
            archive.writestr(folder + name, data)
    return str(path)


def run(dbsession, owner, path, **options):
    return import_archive(dbsession, path, owner_id=owner.id, base_url=BASE, **options)


def stored_key(url: str) -> str:
    assert url.startswith(BASE + "/files/"), url
    return url.removeprefix(BASE + "/files/")


def test_slides_audio_and_video_go_to_storage_with_their_urls_rewritten(
    dbsession, owner, tmp_path, memory_storage
):
    session = {
        "id": 4,
        "title": "Talk",
        "slides-url": "/slides/talk.pdf",
        "audio-url": "audios/talk.mp3",
        "video-url": "https://video.example.org/talk",  # absolute: kept, never fetched
    }
    path = export(
        tmp_path,
        sessions=[session],
        media={"slides/talk.pdf": PDF, "audios/talk.mp3": MP3},
        folder="export/",  # the collections in one folder: URLs are relative to it
    )
    event, report = run(dbsession, owner, path)
    row = dbsession.scalars(select(Session).filter_by(event_id=event.id)).one()
    assert row.video_url == "https://video.example.org/talk"
    slides, audio = stored_key(row.slides_url), stored_key(row.audio_url)
    assert slides.startswith(f"events/{event.id}/files/") and slides.endswith("/talk.pdf")
    assert memory_storage.stat(slides).content_type == "application/pdf"
    assert memory_storage.stat(slides).public
    assert memory_storage.stat(audio).content_type == "audio/mpeg"
    with memory_storage.open(slides) as stream:
        assert stream.read() == PDF
    assert report.as_dict()["media"] == {"files": 2, "bytes": len(PDF) + len(MP3)}
    assert report.findings == []


def test_the_events_own_images_are_stored_once_it_has_its_id(
    dbsession, owner, tmp_path, memory_storage, captured_changes
):
    path = export(
        tmp_path,
        event={
            "logo-url": "/images/event/1-logo-url-logo.png",
            # Not an image the images plugin takes: stored by the importer itself.
            "event-copyright": {"holder": "Ada", "logo-url": "/images/event/copyright.png"},
        },
        speakers=[
            {"id": 1, "name": "Ada", "photo-url": "images/speakers/shared.png"},
            {"id": 2, "name": "Bob", "photo-url": "/images/speakers/shared.png"},
        ],
        media={
            "images/event/1-logo-url-logo.png": PNG,
            "images/event/copyright.png": PNG,
            "images/speakers/shared.png": PNG,
        },
    )
    event, report = run(dbsession, owner, path)
    dbsession.flush()
    row = dbsession.get(Event, event.id)
    logo, copyright_logo = stored_key(row.logo_url), stored_key(row.copyright_logo_url)
    assert logo.startswith(f"events/{event.id}/uploads/") and memory_storage.exists(logo)
    assert copyright_logo.startswith(f"events/{event.id}/files/")
    assert copyright_logo.endswith("/copyright.png")
    assert memory_storage.stat(copyright_logo).content_type == "image/png"
    photos = dbsession.scalars(select(Speaker.photo_url).filter_by(event_id=event.id)).all()
    assert len(set(photos)) == 1  # one file, shared by both speakers, stored once
    assert report.media == {"files": 3, "bytes": 3 * len(PNG)}


def test_a_missing_member_empties_the_field_and_is_reported(dbsession, owner, tmp_path):
    speakers = [
        {"id": 8, "name": "Ada", "photo-url": "/images/speakers/ada.jpg"},
        {"id": 9, "name": "Eve", "photo-url": "/../../etc/passwd"},
    ]
    path = export(tmp_path, speakers=speakers, media={"etc/passwd": b"root"})
    event, report = run(dbsession, owner, path)
    assert dbsession.scalars(select(Speaker.photo_url).filter_by(event_id=event.id)).all() == [
        None,
        None,
    ]
    assert [(f.kind, f.file, f.id, f.reason) for f in report.findings] == [
        (
            "skipped",
            "speakers",
            "8",
            "photo-url: '/images/speakers/ada.jpg' names no file of the archive; left empty",
        ),
        (
            "skipped",
            "speakers",
            "9",
            "photo-url: '/../../etc/passwd' names no file of the archive; left empty",
        ),
    ]


def test_a_member_that_cannot_be_read_is_reported_and_not_stored(
    dbsession, owner, tmp_path, memory_storage
):
    session = {"id": 5, "title": "Talk", "slides-url": "/slides/talk.pdf"}
    path = export(tmp_path, sessions=[session], media={"slides/talk.pdf": PDF})
    data = bytearray(Path(path).read_bytes())
    start = data.index(b"%PDF-1.4")
    data[start + 1000 : start + 1004] = b"XXXX"  # stored uncompressed: its CRC now fails
    Path(path).write_bytes(data)
    event, report = run(dbsession, owner, path)
    assert dbsession.scalars(select(Session.slides_url).filter_by(event_id=event.id)).one() is None
    [finding] = report.findings
    assert finding.reason.startswith("slides-url: slides/talk.pdf: cannot be read: ")
    assert finding.reason.endswith("; not stored, left empty")
    assert memory_storage.list("") == [] and report.media == {"files": 0, "bytes": 0}


def test_an_address_without_its_scheme_is_no_file(dbsession, owner, tmp_path):
    speakers = [{"id": 8, "name": "Ada", "twitter": "www.twitter.com/ada"}]
    _, report = run(dbsession, owner, export(tmp_path, speakers=speakers))
    [finding] = report.findings
    assert finding.reason.startswith("twitter: must be an http or https URL")


def test_strict_refuses_a_missing_member(dbsession, owner, tmp_path):
    speakers = [{"id": 8, "name": "Ada", "photo-url": "/images/speakers/ada.jpg"}]
    with pytest.raises(ImportFailed) as failed:
        run(dbsession, owner, export(tmp_path, speakers=speakers), strict=True)
    assert failed.value.file == "speakers" and failed.value.id == "8"
    assert "photo-url" in failed.value.reason and "strict" in failed.value.reason


def test_a_failing_import_leaves_no_file_in_storage(dbsession, owner, tmp_path, memory_storage):
    # The speakers' files are stored before the sessions are read; a session that ends
    # before it starts is then refused (strict), and the stored files go with the rows.
    path = export(
        tmp_path,
        event={"logo-url": "/images/event/logo.png"},
        speakers=[{"id": 1, "name": "Ada", "photo-url": "/images/speakers/ada.png"}],
        sessions=[
            {
                "id": 2,
                "title": "Backwards",
                "slides-url": "/slides/s.pdf",
                "starts-at": "2026-05-01T11:00:00+00:00",
                "ends-at": "2026-05-01T10:00:00+00:00",
            }
        ],
        media={"images/event/logo.png": PNG, "images/speakers/ada.png": PNG, "slides/s.pdf": PDF},
    )
    written = []
    put = memory_storage.put
    memory_storage.put = lambda key, *args, **kw: written.append(key) or put(key, *args, **kw)
    with pytest.raises(ImportFailed, match="ends before it starts"):
        run(dbsession, owner, path, strict=True)
    assert written  # files were stored before the failure...
    assert memory_storage.list("") == []  # ...and none is left


def test_files_go_when_the_transaction_does_not_commit(
    dbsession, tm, owner, tmp_path, memory_storage
):
    path = export(tmp_path, event={"logo-url": "images/logo.png"}, media={"images/logo.png": PNG})
    run(dbsession, owner, path)
    assert len(memory_storage.list("events/")) == 1
    tm.abort()
    assert memory_storage.list("events/") == []


def test_concurrent_imports_of_one_export_share_no_key(dbsession, owner, tmp_path, memory_storage):
    path = export(
        tmp_path,
        sessions=[{"id": 1, "title": "T", "slides-url": "slides/s.pdf"}],
        media={"slides/s.pdf": PDF},
    )
    first, _ = run(dbsession, owner, path)
    second, _ = run(dbsession, owner, path)
    keys = [stored.key for stored in memory_storage.list("events/")]
    assert len(keys) == 2
    assert keys[0].startswith(f"events/{first.id}/") != keys[1].startswith(f"events/{first.id}/")
    assert any(key.startswith(f"events/{second.id}/") for key in keys)


def test_without_the_sites_address_paths_of_the_storage_fail_the_import(
    dbsession, owner, tmp_path, memory_storage
):
    path = export(tmp_path, event={"logo-url": "images/logo.png"}, media={"images/logo.png": PNG})
    with pytest.raises(ImportFailed, match="--base-url"):
        import_archive(dbsession, path, owner_id=owner.id)
    assert memory_storage.list("") == []


@pytest.mark.parametrize(
    ("member", "head", "expected"),
    [
        ("slides/a.pdf", b"%PDF", "application/pdf"),
        ("videos/a.mp4", b"\x00\x00\x00\x18ftyp", "video/mp4"),
        ("images/a.png", PNG, "image/png"),
        ("images/a.png", b"<html><script>", "application/octet-stream"),  # not a PNG
        ("images/a.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        ("images/a.webp", b"RIFF\x24\x00\x00\x00WAVEfmt ", "application/octet-stream"),  # a WAV
        ("slides/a.html", b"<html>", "application/octet-stream"),
        ("images/a.svg", b"<svg onload=alert(1)>", "application/octet-stream"),
        ("slides/a.js", b"alert(1)", "application/octet-stream"),
        ("slides/a", b"", "application/octet-stream"),
    ],
)
def test_content_types_never_let_a_browser_run_a_file(member, head, expected):
    assert content_type(member, head) == expected
