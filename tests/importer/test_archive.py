"""Open Event archives are read without trusting them: hostile zips and folders are refused
with a reason naming the member, and nothing is ever extracted."""

import stat
import zipfile
from pathlib import Path

import pytest

from openevent.importer.archive import Archive, ArchiveLimits, ArchiveRefused

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "open-event"


def make_zip(path: Path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_sample_folder_and_its_zip_show_the_same_collections(tmp_path):
    folder = SAMPLES / "PyCon17"
    names = sorted(p.name for p in folder.iterdir())
    zipped = make_zip(
        tmp_path / "pycon.zip", {f"PyCon17/{n}": (folder / n).read_bytes() for n in names}
    )
    with Archive.open(folder) as unpacked, Archive.open(zipped) as archive:
        assert sorted(unpacked.collections()) == names
        assert sorted(archive.collections()) == names
        assert archive.collections()["sessions"] == "PyCon17/sessions"
        assert archive.read("PyCon17/event") == (folder / "event").read_bytes()
        assert unpacked.read("event") == (folder / "event").read_bytes()


def test_json_suffixes_and_media_folders(tmp_path):
    path = make_zip(
        tmp_path / "e.zip",
        {"event.json": b"{}", "sessions": b"[]", "images/speakers/a.png": b"png"},
    )
    with Archive.open(path) as archive:
        assert archive.collections() == {"event": "event.json", "sessions": "sessions"}
        assert list(archive.media()) == ["images/speakers/a.png"]
        with pytest.raises(KeyError):
            archive.open_member("../event")


@pytest.mark.parametrize("folder", ["", "export/"])
def test_relative_urls_name_media_members_only(tmp_path, folder):
    members = {"event": b"{}", "images/a b.png": b"png", "slides/s.pdf": b"pdf", "other": b""}
    path = make_zip(tmp_path / "e.zip", {folder + name: data for name, data in members.items()})
    with Archive.open(path) as archive:
        assert archive.member_at("/images/a b.png") == folder + "images/a b.png"
        assert archive.member_at("slides/./s.pdf") == folder + "slides/s.pdf"
        assert archive.member_at("//slides//s.pdf") == folder + "slides/s.pdf"
        for path in ("/event", "other", "/images/missing.png", "/images", "", "/"):
            assert archive.member_at(path) is None, path
        # Wherever a '..' would lead, even back inside: nothing.
        assert archive.member_at("/images/../slides/s.pdf") is None
        assert archive.member_at("../" + folder + "slides/s.pdf") is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../event", "'..' segment"),
        ("a/../../event", "'..' segment"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/event", "absolute path"),
        ("a\\..\\event", "backslash"),
        ("a//event", "empty"),
        ("ev\x1bent", "control character"),
        ("new\nline", "control character"),
    ],
)
def test_paths_that_would_leave_the_folder_are_refused(tmp_path, name, reason):
    path = make_zip(tmp_path / "e.zip", {"event": b"{}", name: b"x"})
    with pytest.raises(ArchiveRefused, match=reason) as refused:
        Archive.open(path)
    assert refused.value.member in (name, repr(name))


def test_symbolic_links_are_refused_in_zips_and_folders(tmp_path):
    link = zipfile.ZipInfo("sessions")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "e.zip", "w") as archive:
        archive.writestr("event", b"{}")
        archive.writestr(link, b"/etc/passwd")
    with pytest.raises(ArchiveRefused, match="symbolic link"):
        Archive.open(tmp_path / "e.zip")

    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "event").write_text("{}")
    (folder / "sessions").symlink_to("/etc/passwd")
    with pytest.raises(ArchiveRefused, match="symbolic link") as refused:
        Archive.open(folder)
    assert refused.value.member == "sessions"


def test_limits_on_members_and_sizes(tmp_path):
    many = make_zip(tmp_path / "many.zip", {f"images/{n}.png": b"x" for n in range(11)})
    with pytest.raises(ArchiveRefused, match="more than 10 members"):
        Archive.open(many, ArchiveLimits(max_members=10))

    big = make_zip(tmp_path / "big.zip", {"a": b"a" * 600, "b": b"b" * 600})
    with pytest.raises(ArchiveRefused, match="more than 1000 bytes uncompressed"):
        Archive.open(big, ArchiveLimits(max_total_bytes=1000))
    with pytest.raises(ArchiveRefused, match="larger than 500 bytes") as refused:
        Archive.open(big, ArchiveLimits(max_member_bytes=500))
    assert refused.value.member == "a"


def test_a_zip_bomb_is_refused_by_its_compression_ratio(tmp_path):
    bomb = make_zip(tmp_path / "bomb.zip", {"sessions": bytes(20 * 1024 * 1024)})
    assert bomb.stat().st_size < 100_000
    with pytest.raises(ArchiveRefused, match=r"compressed \d+ to 1.*zip bomb") as refused:
        Archive.open(bomb)
    assert refused.value.member == "sessions"
    # Small members compress as they like: a JSON file of spaces is no threat.
    make_zip(tmp_path / "spaces.zip", {"event": b" " * 100_000 + b"{}"})
    Archive.open(tmp_path / "spaces.zip").close()


def test_a_member_lying_about_its_size_cannot_inflate_beyond_it(tmp_path):
    path = make_zip(tmp_path / "liar.zip", {"sessions": b"[" + b"1," * 50_000 + b"1]"})
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("sessions")
    # Shrink the size the central directory announces; the local header keeps the truth.
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 24 : central + 28] = (100).to_bytes(4, "little")
    path.write_bytes(raw)
    with Archive.open(path) as archive:
        assert archive.sizes["sessions"] == 100 != info.file_size
        with pytest.raises(ArchiveRefused, match=r"cannot be read|more bytes than announced"):
            archive.read("sessions")


@pytest.mark.parametrize(
    "content", [b"", b"not a zip at all", b"PK\x03\x04" + bytes(40)], ids=["empty", "text", "cut"]
)
def test_what_is_not_a_zip_is_refused(tmp_path, content):
    path = tmp_path / "upload.zip"
    path.write_bytes(content)
    with pytest.raises(ArchiveRefused, match="not a zip archive"):
        Archive.open(path)


def test_duplicate_and_encrypted_members_are_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "dup.zip", "w") as archive, pytest.warns(UserWarning):
        archive.writestr("sessions", b"[]")
        archive.writestr("sessions", b"[1]")
    with pytest.raises(ArchiveRefused, match="two members have this name"):
        Archive.open(tmp_path / "dup.zip")

    # zipfile writes no encrypted members: set the flag of the central directory's record.
    raw = bytearray(make_zip(tmp_path / "enc.zip", {"event": b"{}"}).read_bytes())
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 8] |= 0x1
    (tmp_path / "enc.zip").write_bytes(raw)
    with pytest.raises(ArchiveRefused, match="encrypted"):
        Archive.open(tmp_path / "enc.zip")
