"""Data-preserving operations for migrations, core or plugin, on PostgreSQL and SQLite.

Call them from ``upgrade()``/``downgrade()`` like ``op.*``::

    from openevent.db import migration_ops

    def upgrade():
        migration_ops.rename_column("events", "location", "location_name")

    def downgrade():
        migration_ops.rename_column("events", "location_name", "location")

Each runs in batch mode (SQLite copies the table; PostgreSQL alters it in place), reads and
writes rows through the migration's own connection, and fails loudly, before changing anything,
on data it cannot carry over. See docs/migrations.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op


class UnmappedValueError(ValueError):
    """A row holds a value the conversion does not cover; nothing was changed."""


def rename_column(table: str, old: str, new: str) -> None:
    """Rename ``table.old`` to ``new``, keeping its data, indexes and constraints.

    Both databases rename in place, and their indexes, constraints (CHECK expressions
    included) and foreign keys follow the column; their names stay as they were. (Batch mode
    would rebuild the SQLite table with CHECK expressions still naming the old column.)
    """
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        quote = bind.dialect.identifier_preparer.quote
        op.execute(f"ALTER TABLE {quote(table)} RENAME COLUMN {quote(old)} TO {quote(new)}")
    else:
        op.alter_column(table, old, new_column_name=new)


def _column_info(table: str, column: str) -> dict:
    inspector = sa.inspect(op.get_bind())
    for info in inspector.get_columns(table):
        if info["name"] == column:
            return info
    raise ValueError(f"{table} has no column {column!r}")


def _converter(mapping: Mapping[Any, Any] | Callable[[Any], Any], table: str, column: str):
    def convert(value):
        try:
            if callable(mapping):
                return mapping(value)
            return mapping[value]
        except (KeyError, ValueError, TypeError) as exc:
            raise UnmappedValueError(
                f"{table}.{column}: no conversion for the value {value!r} ({exc!r}); extend the "
                "mapping or fix the row first. Nothing was changed."
            ) from None

    return convert


def change_column_type(
    table: str,
    column: str,
    new_type: sa.types.TypeEngine,
    mapping: Mapping[Any, Any] | Callable[[Any], Any],
) -> None:
    """Change ``table.column`` to ``new_type``, converting each distinct value with ``mapping``.

    ``mapping`` is a dict (``{"on": True, "off": False}``) or a function (``int``). NULL stays
    NULL. A non-NULL value the mapping does not cover (a missing key, or a function raising
    ValueError, TypeError or KeyError) raises :class:`UnmappedValueError` before anything is
    written. The column keeps its name and nullability; an index or constraint on it must be
    re-created by the migration. The downgrade is the same call with the old type and the
    reverse mapping.
    """
    bind = op.get_bind()
    info = _column_info(table, column)
    convert = _converter(mapping, table, column)
    rows = sa.table(table, sa.column(column))
    values = bind.execute(
        sa.select(rows.c[column]).distinct().where(rows.c[column].is_not(None))
    ).scalars()
    converted = {value: convert(value) for value in values}

    temporary = f"_{column}_new"
    with op.batch_alter_table(table) as batch_op:
        batch_op.add_column(sa.Column(temporary, new_type, nullable=True))
    target = sa.table(table, sa.column(column), sa.column(temporary, new_type))
    for old, new in converted.items():
        bind.execute(
            sa.update(target).where(target.c[column] == sa.literal(old)).values({temporary: new})
        )
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_column(column)
    with op.batch_alter_table(table) as batch_op:
        batch_op.alter_column(
            temporary,
            new_column_name=column,
            existing_type=new_type,
            nullable=info["nullable"],
        )


def slugify(value: str) -> str:
    """ASCII, lower case, words joined by hyphens; ``"Café Talks!"`` -> ``"cafe-talks"``."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "item"


def move_to_lookup_table(
    table: str,
    column: str,
    lookup_table: str,
    fk_column: str,
    *,
    name_length: int = 255,
    ondelete: str | None = "SET NULL",
) -> None:
    """Replace the free-text ``table.column`` with ``fk_column`` referencing ``lookup_table``.

    ``lookup_table`` (``id``, ``name``, ``slug``, both unique) is created with one row per
    distinct non-NULL value (the exact text, so no value is merged into another and none is
    lost); slugs that collide get ``-2``, ``-3``... Every row then points at its value's row
    (NULL stays NULL), and the text column is dropped. Undo with :func:`move_from_lookup_table`.
    """
    bind = op.get_bind()
    rows = sa.table(table, sa.column("id"), sa.column(column), sa.column(fk_column))
    values = sorted(
        bind.execute(
            sa.select(rows.c[column]).distinct().where(rows.c[column].is_not(None))
        ).scalars()
    )
    op.create_table(
        lookup_table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=name_length), nullable=False),
        sa.Column("slug", sa.String(length=name_length), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{lookup_table}"),
        sa.UniqueConstraint("name", name=f"uq_{lookup_table}_name"),
        sa.UniqueConstraint("slug", name=f"uq_{lookup_table}_slug"),
    )
    lookup = sa.table(lookup_table, sa.column("id"), sa.column("name"), sa.column("slug"))
    slugs: set[str] = set()
    for value in values:
        base = slugify(value)[: name_length - 8]
        slug, n = base, 1
        while slug in slugs:
            n += 1
            slug = f"{base}-{n}"
        slugs.add(slug)
        bind.execute(sa.insert(lookup).values(name=value, slug=slug))

    with op.batch_alter_table(table) as batch_op:
        batch_op.add_column(sa.Column(fk_column, sa.Integer(), nullable=True))
    ids = sa.select(lookup.c.id).where(lookup.c.name == rows.c[column]).scalar_subquery()
    bind.execute(sa.update(rows).where(rows.c[column].is_not(None)).values({fk_column: ids}))
    with op.batch_alter_table(table) as batch_op:
        batch_op.create_foreign_key(
            f"fk_{table}_{fk_column}_{lookup_table}",
            lookup_table,
            [fk_column],
            ["id"],
            ondelete=ondelete,
        )
        batch_op.create_index(f"ix_{table}_{fk_column}", [fk_column])
        batch_op.drop_column(column)


def move_from_lookup_table(
    table: str,
    column: str,
    lookup_table: str,
    fk_column: str,
    *,
    column_type: sa.types.TypeEngine | None = None,
) -> None:
    """The reverse of :func:`move_to_lookup_table`: the names back into ``table.column``, the
    foreign key and ``lookup_table`` dropped."""
    bind = op.get_bind()
    with op.batch_alter_table(table) as batch_op:
        batch_op.add_column(sa.Column(column, column_type or sa.String(255), nullable=True))
    rows = sa.table(table, sa.column(column), sa.column(fk_column))
    lookup = sa.table(lookup_table, sa.column("id"), sa.column("name"))
    names = sa.select(lookup.c.name).where(lookup.c.id == rows.c[fk_column]).scalar_subquery()
    bind.execute(sa.update(rows).where(rows.c[fk_column].is_not(None)).values({column: names}))
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_index(f"ix_{table}_{fk_column}")
        batch_op.drop_constraint(f"fk_{table}_{fk_column}_{lookup_table}", type_="foreignkey")
        batch_op.drop_column(fk_column)
    op.drop_table(lookup_table)
