"""The migration that stores sessions' abstract previews fills them in for existing rows."""

from alembic import command
from sqlalchemy import create_engine, inspect, text

from openevent.db.migrations import alembic_config
from openevent.db.session import database_url
from openevent.previews import abstract_preview

BEFORE, REVISION = "9c41e7d2a8f3", "d6cce18c5ae2"
# More rows than the migration's batch of 500, so that batches follow each other.
ROWS = 1234


def _abstracts(n: int) -> tuple[str | None, str | None]:
    """Short and long abstracts of the n-th session: either, both or neither; some without text."""
    long_text = f"<p>Session {n} &amp; more:</p><ul><li>{'word ' * (n % 60)}</li></ul>"
    return [
        (None, None),
        (f"<b>Short</b> {n}", None),
        (None, long_text),
        (f"<p>Short {n}</p>", long_text),
        ("<p> </p>", long_text),  # a short abstract without text falls back to the long one
    ][n % 5]


def test_the_upgrade_computes_every_existing_preview_and_the_downgrade_drops_them(
    app_settings, empty_database_url
):
    settings = {**app_settings, "sqlalchemy.url": empty_database_url}
    engine = create_engine(database_url(empty_database_url))

    def migrate(direction, target):
        with engine.begin() as connection:
            direction(alembic_config(settings, connection=connection), target)

    try:
        migrate(command.upgrade, BEFORE)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO events (id, identifier, name, starts_at, ends_at, timezone,"
                    " state, last_modified_at, created_at) VALUES (1, 'abc', 'Summit',"
                    " '2030-03-17 01:00:00+00', '2030-03-18 01:00:00+00', 'UTC', 'draft',"
                    " '2030-01-01 00:00:00+00', '2030-01-01 00:00:00+00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO sessions (id, event_id, title, short_abstract, long_abstract,"
                    " state, created_at, last_modified_at) VALUES (:id, 1, 'Talk', :short,"
                    " :long, 'draft', '2030-01-01 00:00:00+00', '2030-01-01 00:00:00+00')"
                ),
                [
                    {"id": n, "short": short, "long": long}
                    for n in range(1, ROWS + 1)
                    for short, long in [_abstracts(n)]
                ],
            )

        migrate(command.upgrade, REVISION)
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT id, short_abstract, long_abstract, abstract_preview FROM sessions")
            ).all()
        assert len(stored) == ROWS
        assert {id: preview for id, _, _, preview in stored} == {
            id: abstract_preview(short, long) for id, short, long, _ in stored
        }
        assert sum(preview is None for *_, preview in stored) == ROWS // 5  # neither abstract

        migrate(command.downgrade, BEFORE)
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("sessions")}
            assert "abstract_preview" not in columns
            assert connection.scalar(text("SELECT count(*) FROM sessions")) == ROWS
    finally:
        engine.dispose()
