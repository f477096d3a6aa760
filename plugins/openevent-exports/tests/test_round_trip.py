"""Issue 14's round trip: each sample imported, exported as `open-event`, imported again gives
two events equal in every stored field and link (ids aside); an imported sample's frab XML is
valid against the schema."""

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import xmlschema
from sqlalchemy import inspect, select

from openevent.importer import import_archive
from openevent.models import (
    Event,
    EventState,
    Microlocation,
    Session,
    SessionType,
    SocialLink,
    Speaker,
    Sponsor,
    Track,
    session_speakers,
)
from openevent.testing import make_user
from openevent_exports.formats import FORMATS, Writing
from openevent_exports.formats.open_event import storage_key
from openevent_exports.snapshot import load_program

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
SAMPLES = SHARED / "samples" / "open-event"
SCHEMA = SHARED / "validators" / "frab" / "schedule.xml.xsd"
# Columns that differ between two imports of the same data by design.
OWN = {"id", "event_id", "identifier", "created_at", "last_modified_at"}
LINKS = {"track_id": Track, "microlocation_id": Microlocation, "session_type_id": SessionType}


def export(dbsession, event_id: int, name: str, tmp_path, options=None, storage=None) -> Path:
    fmt = FORMATS[name]
    program = load_program(dbsession, event_id, public=fmt.public)
    options, errors = fmt.parse_options(options or {})
    assert not errors
    stream = io.BytesIO()
    fmt.write(program, stream, Writing(options, storage=storage))
    path = tmp_path / f"{event_id}.{name}"
    path.write_bytes(stream.getvalue())
    return path


def stored(dbsession, event_id: int) -> dict:
    """Every stored value of the event and its program, links by the linked rows' names."""
    names = {}

    def rows(model):
        found = dbsession.scalars(select(model).filter_by(event_id=event_id)).all()
        for row in found:
            names[model, row.id] = getattr(row, "name", None) or getattr(row, "title", None)
        return found

    def values(row):
        columns = inspect(row).mapper.column_attrs
        out = {}
        for column in columns:
            value = getattr(row, column.key)
            if column.key in OWN:
                continue
            if column.key in LINKS:
                value = names.get((LINKS[column.key], value))
            out[column.key] = value
        return tuple(sorted(out.items(), key=lambda item: item[0]))

    event = dbsession.get(Event, event_id)
    collections = {}
    for model in (Track, Microlocation, SessionType, Sponsor, SocialLink, Speaker, Session):
        collections[model.__name__] = sorted(map(values, rows(model)), key=repr)
    pairs = dbsession.execute(
        select(Session.title, Speaker.name)
        .join(session_speakers, session_speakers.c.session_id == Session.id)
        .join(Speaker, Speaker.id == session_speakers.c.speaker_id)
        .where(Session.event_id == event_id)
    ).all()
    collections["links"] = sorted(pairs)
    return {"event": values(event), **collections}


@pytest.mark.parametrize("sample", ["FOSSASIASummit2017", "PyCon17"])
def test_import_export_import_keeps_everything(dbsession, sample, tmp_path):
    owner = make_user(dbsession, password=None)
    first, _ = import_archive(dbsession, SAMPLES / sample, owner_id=owner.id)
    zipped = export(dbsession, first.id, "open-event", tmp_path)
    second, report = import_archive(dbsession, zipped, owner_id=owner.id)
    dbsession.expire_all()
    before, after = stored(dbsession, first.id), stored(dbsession, second.id)
    for name in before:
        assert after[name] == before[name], name
    assert len(before["Session"]) > 100 and before["links"]
    # What openevent wrote itself it reads back without a repair.
    assert [f for f in report.findings if f.kind != "warning"] == []


def test_an_imported_sample_exports_valid_frab_xml(dbsession, tmp_path):
    owner = make_user(dbsession, password=None)
    event, _ = import_archive(dbsession, SAMPLES / "FOSSASIASummit2017", owner_id=owner.id)
    event.state = EventState.PUBLISHED
    dbsession.flush()
    path = export(dbsession, event.id, "frab-xml", tmp_path)
    xmlschema.XMLSchema(SCHEMA).validate(str(path))


def _png(red: int, green: int, blue: int) -> bytes:
    """A real 1x1 PNG of one colour (the images plugin, when loaded, checks imported images)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8 bits, RGB
    pixels = zlib.compress(bytes([0, red, green, blue]))  # filter type 0, one pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_images_exported_with_include_media_are_imported_again(dbsession, tmp_path, memory_storage):
    owner = make_user(dbsession, password=None)
    images = {
        "images/event/logo.png": _png(255, 0, 0),
        "images/event/banner.png": _png(0, 255, 0),
        "images/speakers/ada.png": _png(0, 0, 255),
    }
    event = {
        "name": "Pictures",
        "timezone": "UTC",
        "starts-at": "2026-05-01T09:00:00+00:00",
        "ends-at": "2026-05-02T18:00:00+00:00",
        "logo-url": "/images/event/logo.png",
        "original-image-url": "images/event/banner.png",
    }
    speakers = [{"id": 1, "name": "Ada", "photo-url": "/images/speakers/ada.png"}]
    with zipfile.ZipFile(tmp_path / "source.zip", "w") as archive:
        archive.writestr("event", json.dumps(event))
        archive.writestr("speakers", json.dumps(speakers))
        for member, data in images.items():
            archive.writestr(member, data)
    base = "https://events.example.org"
    first, _ = import_archive(dbsession, tmp_path / "source.zip", owner_id=owner.id, base_url=base)
    options = {"include-media": True}
    zipped = export(dbsession, first.id, "open-event", tmp_path, options, memory_storage)
    second, report = import_archive(dbsession, zipped, owner_id=owner.id, base_url=base)
    assert report.media["files"] == 3
    assert [f for f in report.findings if f.kind != "warning"] == []

    def files(event_id: int) -> list[tuple[str, bytes]]:
        """The event's images: the key each URL names, and the bytes stored under it."""
        event = dbsession.get(Event, event_id)
        speaker = dbsession.scalars(select(Speaker).filter_by(event_id=event_id)).one()
        out = []
        for url in (event.logo_url, event.original_image_url, speaker.photo_url):
            key = storage_key(url)
            with memory_storage.open(key) as stream:
                out.append((key, stream.read()))
        return out

    before, after = files(first.id), files(second.id)
    assert [data for _, data in after] == [data for _, data in before] == list(images.values())
    assert all(key.startswith(f"events/{second.id}/") for key, _ in after)
