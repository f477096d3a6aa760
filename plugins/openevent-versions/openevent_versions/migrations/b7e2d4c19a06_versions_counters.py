"""The versions plugin's table: versions_counters.

Revision ID: b7e2d4c19a06
Revises:
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e2d4c19a06"
# A branch of its own, labelled with the plugin's name...
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("versions",)
# ...that needs the core's events table (created by the core's initial revision).
depends_on: str | Sequence[str] | None = "46fd0493b667"

COUNTERS = ("event", "sessions", "speakers", "tickets", "tracks", "microlocations")


def upgrade() -> None:
    op.create_table(
        "versions_counters",
        sa.Column("event_id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in COUNTERS),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_versions_counters_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_versions_counters")),
    )


def downgrade() -> None:
    op.drop_table("versions_counters")
