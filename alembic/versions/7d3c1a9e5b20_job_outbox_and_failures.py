"""Job outbox and the record of failed jobs.

Revision ID: 7d3c1a9e5b20
Revises: 54eeb7f7c97f
Create Date: 2026-11-30 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7d3c1a9e5b20"
down_revision: str | Sequence[str] | None = "54eeb7f7c97f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("queue_name", sa.String(length=100), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("plugin", sa.String(length=100), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    op.create_index(op.f("ix_outbox_sent_at"), "outbox", ["sent_at"], unique=False)
    op.create_table(
        "job_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("queue_name", sa.String(length=100), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("traceback", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_failures")),
    )
    op.create_index(
        op.f("ix_job_failures_message_id"), "job_failures", ["message_id"], unique=False
    )
    op.create_index(op.f("ix_job_failures_failed_at"), "job_failures", ["failed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_job_failures_failed_at"), table_name="job_failures")
    op.drop_index(op.f("ix_job_failures_message_id"), table_name="job_failures")
    op.drop_table("job_failures")
    op.drop_index(op.f("ix_outbox_sent_at"), table_name="outbox")
    op.drop_table("outbox")
