"""Count each job message's deliveries, to fail one whose workers keep dying.

Revision ID: 9c41e7d2a8f3
Revises: 7d3c1a9e5b20
Create Date: 2026-11-23 14:15:47.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c41e7d2a8f3"
down_revision: str | Sequence[str] | None = "7d3c1a9e5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_deliveries",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("last_delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_job_deliveries")),
    )
    op.create_index(
        op.f("ix_job_deliveries_last_delivered_at"),
        "job_deliveries",
        ["last_delivered_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_job_deliveries_last_delivered_at"), table_name="job_deliveries")
    op.drop_table("job_deliveries")
