"""The exports plugin's tables: exports_jobs and exports_feeds.

Revision ID: a3f1c9e7d2b4
Revises:
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3f1c9e7d2b4"
# A branch of its own, labelled with the plugin's name...
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("exports",)
# ...that needs the core's events table (created by the core's initial revision).
depends_on: str | Sequence[str] | None = "46fd0493b667"


def upgrade() -> None:
    op.create_table(
        "exports_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("storage_key", sa.String(length=1024), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_exports_jobs_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports_jobs")),
    )
    op.create_index(op.f("ix_exports_jobs_event_id"), "exports_jobs", ["event_id"], unique=False)
    op.create_index(
        op.f("ix_exports_jobs_message_id"), "exports_jobs", ["message_id"], unique=False
    )
    op.create_table(
        "exports_feeds",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("built", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Boolean(), nullable=False),
        sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("files", sa.JSON(), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_exports_feeds_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_exports_feeds")),
    )


def downgrade() -> None:
    op.drop_table("exports_feeds")
    op.drop_index(op.f("ix_exports_jobs_message_id"), table_name="exports_jobs")
    op.drop_index(op.f("ix_exports_jobs_event_id"), table_name="exports_jobs")
    op.drop_table("exports_jobs")
