import pytest
from sqlalchemy import create_engine, insert

from openevent.cli import main
from openevent.db import utcnow
from openevent.db.session import database_url
from openevent.models import JobFailure


@pytest.fixture
def config_file(ini_file):
    path = ini_file()
    assert main(["db", "upgrade", path]) == 0
    return path


def test_failed_lists_failed_jobs_with_their_error(config_file, empty_database_url, capsys):
    assert main(["jobs", "failed", config_file]) == 0
    assert "no failed jobs" in capsys.readouterr().out

    engine = create_engine(database_url(empty_database_url))
    with engine.begin() as connection:
        connection.execute(
            insert(JobFailure).values(
                message_id="5f1c2b9e-0000-4000-8000-000000000001",
                actor_name="openevent_badges.jobs.print_badge",
                queue_name="default",
                args='{"args": [7], "kwargs": {}}',
                message=b"{}",
                error="RuntimeError: printer on fire\nsecond line",
                traceback="Traceback ...",
                attempts=11,
                failed_at=utcnow(),
            )
        )
    engine.dispose()

    assert main(["jobs", "failed", config_file]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == [
        "FAILED",
        "AT",
        "(UTC)",
        "MESSAGE",
        "ID",
        "JOB",
        "QUEUE",
        "ATTEMPTS",
        "ERROR",
    ]
    assert "5f1c2b9e-0000-4000-8000-000000000001" in row
    assert "openevent_badges.jobs.print_badge" in row
    assert row.endswith("RuntimeError: printer on fire second line")


def test_relay_with_an_empty_outbox(config_file, capsys):
    assert main(["jobs", "relay", config_file]) == 0
    assert capsys.readouterr().out.strip() == "relayed 0 message(s)"
