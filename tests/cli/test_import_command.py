"""`openevent import CONFIG PATH`: a sample becomes an event owned by --owner (or the only
admin); a failing import writes nothing and says why."""

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, select

from openevent.cli import main
from openevent.db.session import database_url
from openevent.models import Event, EventRole, Session, User

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "open-event"


@pytest.fixture
def config_file(ini_file):
    path = ini_file()
    assert main(["db", "upgrade", path]) == 0
    return path


@pytest.fixture
def engine(empty_database_url):
    engine = create_engine(database_url(empty_database_url))
    yield engine
    engine.dispose()


def add_user(engine, email, is_admin=False) -> int:
    with engine.begin() as connection:
        return connection.execute(
            insert(User)
            .values(email=email, password_hash="-", is_admin=is_admin)
            .returning(User.id)
        ).scalar_one()


def test_import_a_sample_with_its_report(config_file, engine, tmp_path, capsys):
    owner = add_user(engine, "ada@example.org")
    report = tmp_path / "report.json"
    path = str(SAMPLES / "PyCon17")
    assert (
        main(["import", config_file, path, "--owner", "Ada@Example.org", "--report", str(report)])
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("imported event ")
    assert "146 sessions" in out and "143 speakers" in out
    assert "repaired: speakers id 88: 2 different records share this id" in out
    document = json.loads(report.read_text())
    with engine.connect() as connection:
        event_id = connection.scalar(select(Event.id))
        assert document["event-id"] == event_id
        assert connection.scalar(select(EventRole.user_id).filter_by(event_id=event_id)) == owner
        sessions = connection.scalar(select(func.count()).select_from(Session))
    assert sessions == document["counts"]["sessions"] == 146


def test_the_only_admin_owns_it_by_default_and_otherwise_the_owner_is_asked_for(
    config_file, engine, capsys
):
    path = str(SAMPLES / "FOSSASIASummit2017")
    assert main(["import", config_file, path]) == 1
    assert "name the new event's owner with --owner EMAIL" in capsys.readouterr().err
    admin = add_user(engine, "root@example.org", is_admin=True)
    assert main(["import", config_file, path]) == 0
    with engine.connect() as connection:
        assert connection.scalar(select(EventRole.user_id)) == admin


def test_a_failing_import_writes_nothing(config_file, engine, tmp_path, capsys):
    add_user(engine, "ada@example.org")
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "event").write_text('{"name": "No times", "timezone": "UTC"}')
    (folder / "sessions").write_text('[{"id": 1, "title": "Lost"}]')
    assert main(["import", config_file, str(folder), "--owner", "ada@example.org"]) == 1
    err = capsys.readouterr().err
    assert "failed, nothing imported: file event, key starts-at: required" in err
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Event)) == 0
        assert connection.scalar(select(func.count()).select_from(Session)) == 0
    assert main(["import", config_file, str(tmp_path / "missing.zip")]) == 2


@pytest.fixture
def local_files(tmp_path, monkeypatch):
    """The command's storage: a folder, to look into after the command."""
    root = tmp_path / "files"
    monkeypatch.setenv("OPENEVENT_STORAGE", "local")
    monkeypatch.setenv("OPENEVENT_STORAGE_LOCAL_PATH", str(root))
    return root


@pytest.fixture
def media_export(tmp_path, export_with_slides):
    """``media_export(session_ends_at)``: the folder of an export with slides."""

    def _folder(session_ends_at: str) -> str:
        folder = tmp_path / "media-export"
        for name, data in export_with_slides(session_ends_at).items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        return str(folder)

    return _folder


def stored_files(root: Path) -> list[str]:
    """The objects in the local storage folder (not its hidden metadata)."""
    if not root.exists():
        return []
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )


def test_media_files_get_urls_on_the_site_named_by_base_url(
    config_file, engine, media_export, local_files, capsys
):
    add_user(engine, "ada@example.org")
    path = media_export("2026-05-01T11:00:00+00:00")
    args = ["import", config_file, path, "--owner", "ada@example.org"]
    assert main([*args, "--base-url", "https://events.example.org/"]) == 0
    [stored] = stored_files(local_files)
    with engine.connect() as connection:
        slides_url = connection.scalar(select(Session.slides_url))
    assert slides_url == f"https://events.example.org/files/{stored}"
    assert (local_files / stored).read_bytes() == b"%PDF-1.4 slides"
    # Without it, the storage's /files/ paths cannot be URLs: refused, with the way out.
    assert main(args) == 1
    assert "--base-url" in capsys.readouterr().err
    assert stored_files(local_files) == [stored]
    with pytest.raises(SystemExit) as usage:
        main([*args, "--base-url", "/relative"])
    assert usage.value.code == 2
    assert "expected an http(s):// URL with a host" in capsys.readouterr().err


def test_a_failing_import_leaves_no_file(config_file, engine, media_export, local_files, capsys):
    add_user(engine, "ada@example.org")
    path = media_export("2026-05-01T09:00:00+00:00")  # ends before it starts
    args = ["import", config_file, path, "--owner", "ada@example.org", "--strict"]
    assert main([*args, "--base-url", "https://events.example.org"]) == 1
    assert "ends before it starts" in capsys.readouterr().err
    assert stored_files(local_files) == []
