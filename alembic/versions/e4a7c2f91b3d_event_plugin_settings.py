"""Event plugins: per-event settings, and "enabled" may be left to the plugin's default.

A row is now also written when organizers change a plugin's settings without having chosen
whether it acts: ``enabled`` is NULL then, meaning the plugin's ``enabled_by_default``.
Existing rows keep their explicit choice and get no settings (every setting at its default).

Revision ID: e4a7c2f91b3d
Revises: d6cce18c5ae2
Create Date: 2026-12-03 10:12:41.208113
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e4a7c2f91b3d"
down_revision: str | Sequence[str] | None = "d6cce18c5ae2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

event_plugins = sa.table("event_plugins", sa.column("enabled", sa.Boolean()))


def upgrade() -> None:
    with op.batch_alter_table("event_plugins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("settings", sa.JSON(), server_default="{}", nullable=False))
        batch_op.alter_column("enabled", existing_type=sa.Boolean(), nullable=True)


def downgrade() -> None:
    # Before this revision every row held a choice, and no row meant "enabled". A row that left
    # the choice to the plugin goes (it held settings only, which the older code does not read).
    op.execute(sa.delete(event_plugins).where(event_plugins.c.enabled.is_(None)))
    with op.batch_alter_table("event_plugins", schema=None) as batch_op:
        batch_op.drop_column("settings")
        batch_op.alter_column("enabled", existing_type=sa.Boolean(), nullable=False)
