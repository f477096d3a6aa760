"""The sample plugin's first table: sample_notes.

Revision ID: 3f1c0a5e9b21
Revises:
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f1c0a5e9b21"
# A branch of its own, labelled with the plugin's name...
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("sample",)
# ...that needs the core's events table (created by the core's initial revision).
depends_on: str | Sequence[str] | None = "46fd0493b667"


def upgrade() -> None:
    op.create_table(
        "sample_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_sample_notes_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_notes")),
    )
    op.create_index(op.f("ix_sample_notes_event_id"), "sample_notes", ["event_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sample_notes_event_id"), table_name="sample_notes")
    op.drop_table("sample_notes")
