"""The data-preserving migration helpers, on a scratch table with rows, up and down."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations

from openevent.db import migration_ops
from openevent.db.session import database_url


@pytest.fixture
def engine(empty_database_url) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url(empty_database_url))
    yield engine
    engine.dispose()


@contextmanager
def migration(engine):
    """``op`` bound to a connection, as inside a migration; committed at the end."""
    with engine.begin() as connection:
        context = MigrationContext.configure(connection)
        with Operations.context(context):
            yield connection


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def _talks(engine, *columns: sa.Column, values: list[dict]):
    metadata = sa.MetaData()
    table = sa.Table("talks", metadata, sa.Column("id", sa.Integer, primary_key=True), *columns)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), values)
    return table


def test_rename_column_keeps_data_index_and_constraint(engine):
    metadata = sa.MetaData()
    sa.Table(
        "talks",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(50), nullable=False),
        sa.Index("ix_talks_title", "title", unique=True),
        sa.CheckConstraint("length(title) > 0", name="ck_talks_title_not_empty"),
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO talks (id, title) VALUES (1, 'a'), (2, 'b')")

    with migration(engine):
        migration_ops.rename_column("talks", "title", "name")
    assert rows(engine, "SELECT id, name FROM talks ORDER BY id") == [(1, "a"), (2, "b")]
    inspector = sa.inspect(engine)
    [index] = inspector.get_indexes("talks")
    assert index["column_names"] == ["name"] and index["unique"]
    assert not next(c for c in inspector.get_columns("talks") if c["name"] == "name")["nullable"]
    with engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
        connection.exec_driver_sql("INSERT INTO talks (id, name) VALUES (3, 'a')")
    with engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
        connection.exec_driver_sql("INSERT INTO talks (id, name) VALUES (4, '')")

    with migration(engine):
        migration_ops.rename_column("talks", "name", "title")
    assert rows(engine, "SELECT id, title FROM talks ORDER BY id") == [(1, "a"), (2, "b")]
    assert sa.inspect(engine).get_indexes("talks")[0]["column_names"] == ["title"]


def test_change_column_type_with_a_mapping_up_and_down(engine):
    _talks(
        engine,
        sa.Column("recorded", sa.String(3), nullable=True),
        values=[
            {"id": 1, "recorded": "on"},
            {"id": 2, "recorded": "off"},
            {"id": 3, "recorded": None},
        ],
    )
    with migration(engine):
        migration_ops.change_column_type(
            "talks", "recorded", sa.Boolean(), {"on": True, "off": False}
        )
    assert rows(engine, "SELECT id, recorded FROM talks ORDER BY id") == [
        (1, True),
        (2, False),
        (3, None),
    ]
    assert isinstance(
        next(c for c in sa.inspect(engine).get_columns("talks") if c["name"] == "recorded")["type"],
        sa.Boolean if engine.dialect.name == "postgresql" else sa.types.TypeEngine,
    )

    with migration(engine):
        migration_ops.change_column_type(
            "talks", "recorded", sa.String(3), {True: "on", False: "off"}
        )
    assert rows(engine, "SELECT id, recorded FROM talks ORDER BY id") == [
        (1, "on"),
        (2, "off"),
        (3, None),
    ]


def test_change_column_type_free_text_to_integers_keeps_not_null(engine):
    _talks(
        engine,
        sa.Column("minutes", sa.String(10), nullable=False),
        values=[{"id": 1, "minutes": "45"}, {"id": 2, "minutes": " 30"}],
    )
    with migration(engine):
        migration_ops.change_column_type("talks", "minutes", sa.Integer(), int)
    assert rows(engine, "SELECT id, minutes FROM talks ORDER BY id") == [(1, 45), (2, 30)]
    minutes = next(c for c in sa.inspect(engine).get_columns("talks") if c["name"] == "minutes")
    assert minutes["nullable"] is False
    with migration(engine):
        migration_ops.change_column_type("talks", "minutes", sa.String(10), str)
    assert rows(engine, "SELECT id, minutes FROM talks ORDER BY id") == [(1, "45"), (2, "30")]


@pytest.mark.parametrize(
    ("mapping", "new_type", "good"),
    [({"on": True, "off": False}, sa.Boolean(), "on"), (int, sa.Integer(), "45")],
)
def test_change_column_type_fails_loudly_on_an_unmapped_value(engine, mapping, new_type, good):
    _talks(
        engine,
        sa.Column("recorded", sa.String(10)),
        values=[{"id": 1, "recorded": good}, {"id": 2, "recorded": "maybe"}],
    )
    with (
        pytest.raises(migration_ops.UnmappedValueError, match=r"talks\.recorded: .* 'maybe'"),
        migration(engine),
    ):
        migration_ops.change_column_type("talks", "recorded", new_type, mapping)
    # Nothing changed.
    assert rows(engine, "SELECT id, recorded FROM talks ORDER BY id") == [(1, good), (2, "maybe")]
    assert [c["name"] for c in sa.inspect(engine).get_columns("talks")] == ["id", "recorded"]


def test_move_to_lookup_table_and_back(engine):
    values = ["Workshop", "Talk", "workshop", "Talk", None, "Café Talk", "Cafe Talk"]
    _talks(
        engine,
        sa.Column("kind", sa.String(100)),
        values=[{"id": i, "kind": v} for i, v in enumerate(values, start=1)],
    )
    with migration(engine):
        migration_ops.move_to_lookup_table("talks", "kind", "talk_kinds", "kind_id")

    kinds = rows(engine, "SELECT name, slug FROM talk_kinds ORDER BY name")
    # One row per distinct value, none merged, slugs unique.
    assert sorted(name for name, _ in kinds) == sorted({v for v in values if v})
    assert len({slug for _, slug in kinds}) == len(kinds)
    assert dict(kinds)["Café Talk"] in {"cafe-talk", "cafe-talk-2"}
    joined = rows(
        engine,
        "SELECT t.id, k.name FROM talks t LEFT JOIN talk_kinds k ON k.id = t.kind_id ORDER BY t.id",
    )
    assert joined == list(enumerate(values, start=1))
    assert "kind" not in [c["name"] for c in sa.inspect(engine).get_columns("talks")]
    [fk] = sa.inspect(engine).get_foreign_keys("talks")
    assert fk["referred_table"] == "talk_kinds" and fk["constrained_columns"] == ["kind_id"]

    with migration(engine):
        migration_ops.move_from_lookup_table(
            "talks", "kind", "talk_kinds", "kind_id", column_type=sa.String(100)
        )
    assert rows(engine, "SELECT id, kind FROM talks ORDER BY id") == list(
        enumerate(values, start=1)
    )
    assert "talk_kinds" not in sa.inspect(engine).get_table_names()
