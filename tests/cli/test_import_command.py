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
