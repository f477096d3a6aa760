"""The migration that gives event_plugins its settings and a nullable enabled keeps every
choice on the way up, and on the way down drops only what the older schema cannot hold."""

from alembic import command
from sqlalchemy import create_engine, text

from openevent.db.migrations import alembic_config
from openevent.db.session import database_url

BEFORE, REVISION = "d6cce18c5ae2", "e4a7c2f91b3d"
EVENT = (
    "INSERT INTO events (id, identifier, name, starts_at, ends_at, timezone, state,"
    " last_modified_at, created_at) VALUES (:id, :identifier, 'Summit', '2030-03-17 01:00:00+00',"
    " '2030-03-18 01:00:00+00', 'UTC', 'draft', '2030-01-01 00:00:00+00',"
    " '2030-01-01 00:00:00+00')"
)


def _rows(engine):
    with engine.connect() as connection:
        return (
            connection.execute(text("SELECT * FROM event_plugins ORDER BY event_id, plugin"))
            .mappings()
            .all()
        )


def test_choices_survive_the_upgrade_and_settings_only_rows_go_on_the_downgrade(
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
                text(EVENT), [{"id": 1, "identifier": "a"}, {"id": 2, "identifier": "b"}]
            )
            connection.execute(
                text("INSERT INTO event_plugins (event_id, plugin, enabled) VALUES (:e, :p, :on)"),
                [{"e": 1, "p": "versions", "on": False}, {"e": 2, "p": "sample", "on": True}],
            )

        migrate(command.upgrade, REVISION)
        rows = _rows(engine)
        assert [(r["event_id"], r["plugin"], bool(r["enabled"])) for r in rows] == [
            (1, "versions", False),
            (2, "sample", True),
        ]
        assert [r["settings"] for r in rows] in ([{}, {}], ["{}", "{}"])  # json, or its text
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO event_plugins (event_id, plugin, enabled, settings)"
                    " VALUES (1, 'sample', NULL, '{\"keep-notes\": false}')"
                )
            )

        migrate(command.downgrade, BEFORE)
        assert [(r["event_id"], r["plugin"], bool(r["enabled"])) for r in _rows(engine)] == [
            (1, "versions", False),
            (2, "sample", True),
        ]
        assert "settings" not in _rows(engine)[0]
        migrate(command.upgrade, REVISION)  # and up again
    finally:
        engine.dispose()
