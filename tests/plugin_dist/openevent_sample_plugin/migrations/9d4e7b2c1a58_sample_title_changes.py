"""The sample plugin's log of session title changes: sample_title_changes.

Revision ID: 9d4e7b2c1a58
Revises: 3f1c0a5e9b21
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d4e7b2c1a58"
# The next revision on the plugin's branch.
down_revision: str | Sequence[str] | None = "3f1c0a5e9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sample_title_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("old_title", sa.String(length=255), nullable=False),
        sa.Column("new_title", sa.String(length=255), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_sample_title_changes_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_title_changes")),
        sa.UniqueConstraint("message_id", name=op.f("uq_sample_title_changes_message_id")),
    )
    op.create_index(
        op.f("ix_sample_title_changes_event_id"), "sample_title_changes", ["event_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sample_title_changes_event_id"), table_name="sample_title_changes")
    op.drop_table("sample_title_changes")
