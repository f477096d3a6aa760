"""Count each job message's deliveries on its outbox row.

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
    # A constant default: existing rows read 0, and PostgreSQL (11+) adds the column without
    # rewriting the table.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deliveries", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("deliveries")
