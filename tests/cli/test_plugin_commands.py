"""Plugins' own commands (entry point group openevent.commands, openevent.cli.api): the sample
plugin's `sample-notes`, and its broken and clashing ones left out with a line on stderr."""

import re
from datetime import UTC, datetime
from importlib.metadata import EntryPoint, entry_points

import pytest
from sqlalchemy import create_engine, insert

from openevent import cli
from openevent.cli import build_parser, main
from openevent.cli.api import ENTRY_POINT_GROUP as GROUP
from openevent.db.session import database_url
from openevent.models import Event


@pytest.fixture
def config_file(ini_file):
    path = ini_file()
    assert main(["db", "upgrade", path]) == 0
    return path


def _add_notes(url: str, counts: dict[int, int]) -> None:
    from openevent_sample_plugin.models import SampleNote  # installed by tests/conftest.py

    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        for event_id, count in counts.items():
            connection.execute(
                insert(Event).values(
                    id=event_id,
                    identifier=f"ev{event_id}",
                    name=f"Event {event_id}",
                    starts_at=datetime(2030, 1, 1, 9, tzinfo=UTC),
                    ends_at=datetime(2030, 1, 2, 9, tzinfo=UTC),
                    timezone="UTC",
                )
            )
            for n in range(count):
                connection.execute(insert(SampleNote).values(event_id=event_id, text=f"n{n}"))
    engine.dispose()


def test_a_plugins_command_runs_with_the_app(config_file, empty_database_url, capsys):
    _add_notes(empty_database_url, {3: 2, 5: 1})
    assert main(["sample-notes", config_file]) == 0
    assert capsys.readouterr().out.splitlines() == ["event 3: 2 notes", "event 5: 1 notes"]

    assert main(["sample-notes", config_file, "--event", "5"]) == 0
    assert capsys.readouterr().out.splitlines() == ["event 5: 1 notes"]


def test_broken_and_clashing_commands_are_left_out_and_reported(monkeypatch, capsys):
    installed = [
        *entry_points(group="openevent.commands"),
        EntryPoint("sample-broken", "openevent_sample_broken.broken_import:register", GROUP),
        EntryPoint("sample-raises", "openevent_sample_broken.broken_include:includeme", GROUP),
        EntryPoint("db", "openevent_sample_plugin.commands:register", GROUP),
    ]
    monkeypatch.setattr(cli, "entry_points", lambda group: installed if group == GROUP else [])
    parser = build_parser()
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3
    assert re.match(
        r"openevent: command sample-broken = \S+ failed to load: ModuleNotFound", err[1]
    )
    assert re.match(
        r"openevent: command sample-raises = \S+ failed to load: AttributeError", err[2]
    )
    assert err[0] == (
        "openevent: command db = openevent_sample_plugin.commands:register: "
        "the name is taken; skipped"
    )
    # openevent's own `db` is still its own; the working plugin command is there.
    assert parser.parse_args(["db", "upgrade", "x.ini"]).handler.__module__ == "openevent.cli.db"
    assert parser.parse_args(["sample-notes", "x.ini"]).handler.__name__ == "count_notes"
