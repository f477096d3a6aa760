"""``openevent export CONFIG EVENT --format F``: the same files, from a shell."""

import json
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, insert

from openevent.cli import main
from openevent.db.session import database_url
from openevent.models import Event, EventState, Session, SessionState


@pytest.fixture
def config_file(ini_file):
    path = ini_file("openevent.plugins = exports\n")
    assert main(["db", "upgrade", path]) == 0
    return path


@pytest.fixture
def event_id(config_file, empty_database_url):
    engine = create_engine(database_url(empty_database_url))
    with engine.begin() as connection:
        connection.execute(
            insert(Event).values(
                id=7,
                identifier="cli7",
                name="Shell Summit",
                starts_at=datetime(2030, 1, 1, 9, tzinfo=UTC),
                ends_at=datetime(2030, 1, 2, 9, tzinfo=UTC),
                timezone="Europe/Berlin",
                state=EventState.PUBLISHED,
                created_at=datetime(2029, 1, 1, tzinfo=UTC),
                last_modified_at=datetime(2029, 1, 1, tzinfo=UTC),
            )
        )
        connection.execute(
            insert(Session).values(
                event_id=7,
                title="From the shell",
                state=SessionState.ACCEPTED,
                starts_at=datetime(2030, 1, 1, 10, tzinfo=UTC),
                ends_at=datetime(2030, 1, 1, 11, tzinfo=UTC),
                created_at=datetime(2029, 1, 1, tzinfo=UTC),
                last_modified_at=datetime(2029, 1, 1, tzinfo=UTC),
            )
        )
    engine.dispose()
    return 7


def test_export_writes_the_file(config_file, event_id, tmp_path, capsys):
    output = tmp_path / "backup.zip"
    assert (
        main(
            [
                "export",
                config_file,
                str(event_id),
                "--format",
                "open-event",
                "--output",
                str(output),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == str(output)
    sessions = json.loads(zipfile.ZipFile(output).read("sessions"))
    assert [s["title"] for s in sessions] == ["From the shell"]
    assert not list(tmp_path.glob(".export-*"))  # no temporary file left


def test_export_takes_options_and_refuses_bad_ones(config_file, event_id, tmp_path, capsys):
    output = tmp_path / "schedule.xml"
    arguments = ["export", config_file, str(event_id), "--format", "frab-xml", "--output"]
    assert main([*arguments, str(output), "--option", "day-change-hour=11"]) == 0
    assert b'start="2030-01-01T11:00:00+01:00"' in output.read_bytes()
    assert main([*arguments, str(output), "--option", "day-change-hour=25"]) == 2
    assert "day-change-hour must be at most 23" in capsys.readouterr().err


def test_export_of_a_missing_event_fails_cleanly(config_file, tmp_path, capsys):
    output = tmp_path / "x.ics"
    assert main(["export", config_file, "99", "--format", "ical", "--output", str(output)]) == 1
    assert "no event with id 99" in capsys.readouterr().err
    assert not output.exists() and not list(tmp_path.glob(".export-*"))
