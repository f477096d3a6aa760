"""Per-event plugin settings: a row turns a plugin off (or on) for one event.

Revision ID: 54eeb7f7c97f
Revises: 572215a11b52
Create Date: 2026-11-23 13:38:24.415741
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "54eeb7f7c97f"
down_revision: str | Sequence[str] | None = "572215a11b52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_plugins",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("plugin", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_plugins_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "plugin", name=op.f("pk_event_plugins")),
    )


def downgrade() -> None:
    op.drop_table("event_plugins")
