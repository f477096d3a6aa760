"""The migration that brings in Open Event's data renames speakers' ``bio`` to
``short_biography``: every biography survives the upgrade, and the downgrade, and the defaults
of the new required columns fill the rows that were there."""

from alembic import command
from sqlalchemy import create_engine, text

from openevent.db.migrations import alembic_config
from openevent.db.session import database_url

BEFORE, REVISION = "e4a7c2f91b3d", "b8537799153d"
EVENT = (
    "INSERT INTO events (id, identifier, name, starts_at, ends_at, timezone, state,"
    " last_modified_at, created_at) VALUES (1, 'a', 'Summit', '2030-03-17 01:00:00+00',"
    " '2030-03-18 01:00:00+00', 'UTC', 'draft', '2030-01-01 00:00:00+00',"
    " '2030-01-01 00:00:00+00')"
)
SPEAKER = (
    "INSERT INTO speakers (id, event_id, name, {column}, last_modified_at, created_at)"
    " VALUES (:id, 1, :name, :bio, '2030-01-01 00:00:00+00', '2030-01-01 00:00:00+00')"
)
BIOS = {1: "<p>Poet of numbers</p>", 2: None, 3: "Écrit des compilateurs 🚀"}


def _column(engine, column):
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT id, {column} FROM speakers ORDER BY id"))
        return dict(rows.all())


def test_biographies_survive_the_upgrade_and_the_downgrade(app_settings, empty_database_url):
    settings = {**app_settings, "sqlalchemy.url": empty_database_url}
    engine = create_engine(database_url(empty_database_url))

    def migrate(direction, target):
        with engine.begin() as connection:
            direction(alembic_config(settings, connection=connection), target)

    try:
        migrate(command.upgrade, BEFORE)
        with engine.begin() as connection:
            connection.execute(text(EVENT))
            connection.execute(
                text(SPEAKER.format(column="bio")),
                [{"id": id, "name": f"Speaker {id}", "bio": bio} for id, bio in BIOS.items()],
            )

        migrate(command.upgrade, REVISION)
        assert _column(engine, "short_biography") == BIOS
        assert _column(engine, "long_biography") == {1: None, 2: None, 3: None}
        assert {bool(v) for v in _column(engine, "is_featured").values()} == {False}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT privacy FROM events")).scalar() == "public"
        # Written under the new name, read under the old one after the downgrade.
        with engine.begin() as connection:
            connection.execute(text("UPDATE speakers SET short_biography = 'Changed' WHERE id = 2"))
            connection.execute(
                text(SPEAKER.format(column="short_biography")),
                {"id": 4, "name": "Speaker 4", "bio": "<p>New</p>"},
            )

        migrate(command.downgrade, BEFORE)
        assert _column(engine, "bio") == {**BIOS, 2: "Changed", 4: "<p>New</p>"}

        migrate(command.upgrade, REVISION)
        assert _column(engine, "short_biography") == {**BIOS, 2: "Changed", 4: "<p>New</p>"}
    finally:
        engine.dispose()
