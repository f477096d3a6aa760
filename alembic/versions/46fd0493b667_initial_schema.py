"""Initial schema: events, their program, tickets and teams.

Revision ID: 46fd0493b667
Revises:
Create Date: 2026-11-23 12:58:26.501391
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "46fd0493b667"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_types")),
        sa.UniqueConstraint("slug", name=op.f("uq_event_types_slug")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lower_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft", "published", name="eventstate", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("event_type_id", sa.Integer(), nullable=True),
        sa.Column("location_name", sa.String(length=255), nullable=True),
        sa.Column("logo_url", sa.String(length=2048), nullable=True),
        sa.Column("original_image_url", sa.String(length=2048), nullable=True),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_events_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["event_type_id"],
            ["event_types.id"],
            name=op.f("fk_events_event_type_id_event_types"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("identifier", name=op.f("uq_events_identifier")),
    )
    op.create_index(op.f("ix_events_event_type_id"), "events", ["event_type_id"], unique=False)

    op.create_table(
        "event_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "owner",
                "organizer",
                "coorganizer",
                name="role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_roles_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_event_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_roles")),
        sa.UniqueConstraint("event_id", "user_id", name=op.f("uq_event_roles_event_id_user_id")),
    )
    op.create_index(op.f("ix_event_roles_user_id"), "event_roles", ["user_id"], unique=False)

    op.create_table(
        "microlocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_microlocations_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_microlocations")),
    )
    op.create_index(
        op.f("ix_microlocations_event_id"), "microlocations", ["event_id"], unique=False
    )

    op.create_table(
        "speakers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("photo_url", sa.String(length=2048), nullable=True),
        sa.Column("organisation", sa.String(length=255), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("website", sa.String(length=2048), nullable=True),
        sa.Column("twitter", sa.String(length=2048), nullable=True),
        sa.Column("github", sa.String(length=2048), nullable=True),
        sa.Column("linkedin", sa.String(length=2048), nullable=True),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_speakers_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speakers")),
    )
    op.create_index(op.f("ix_speakers_event_id"), "speakers", ["event_id"], unique=False)

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("sales_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sales_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_hidden", sa.Boolean(), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("position >= 1", name=op.f("ck_tickets_position_positive")),
        sa.CheckConstraint("price >= 0", name=op.f("ck_tickets_price_not_negative")),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_tickets_quantity_not_negative")),
        sa.CheckConstraint(
            "sales_ends_at > sales_starts_at", name=op.f("ck_tickets_sales_end_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_tickets_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    op.create_index(op.f("ix_tickets_event_id"), "tickets", ["event_id"], unique=False)
    op.create_index(
        "uq_tickets_event_id_position_live",
        "tickets",
        ["event_id", "position"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
        sqlite_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=True),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_tracks_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracks")),
    )
    op.create_index(op.f("ix_tracks_event_id"), "tracks", ["event_id"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("subtitle", sa.String(length=255), nullable=True),
        sa.Column("short_abstract", sa.Text(), nullable=True),
        sa.Column("long_abstract", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=True),
        sa.Column("level", sa.String(length=64), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "pending",
                "accepted",
                "confirmed",
                "rejected",
                "canceled",
                "withdrawn",
                name="sessionstate",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("microlocation_id", sa.Integer(), nullable=True),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_sessions_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_sessions_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["microlocation_id"],
            ["microlocations.id"],
            name=op.f("fk_sessions_microlocation_id_microlocations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["tracks.id"],
            name=op.f("fk_sessions_track_id_tracks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_event_id"), "sessions", ["event_id"], unique=False)
    op.create_index(
        op.f("ix_sessions_microlocation_id"), "sessions", ["microlocation_id"], unique=False
    )
    op.create_index(op.f("ix_sessions_track_id"), "sessions", ["track_id"], unique=False)

    op.create_table(
        "session_speakers",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("speaker_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_speakers_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"],
            ["speakers.id"],
            name=op.f("fk_session_speakers_speaker_id_speakers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "speaker_id", name=op.f("pk_session_speakers")),
    )


def downgrade() -> None:
    op.drop_table("session_speakers")
    op.drop_index(op.f("ix_sessions_track_id"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_microlocation_id"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_event_id"), table_name="sessions")

    op.drop_table("sessions")
    op.drop_index(op.f("ix_tracks_event_id"), table_name="tracks")

    op.drop_table("tracks")
    op.drop_index(
        "uq_tickets_event_id_position_live",
        table_name="tickets",
        postgresql_where=sa.text("deleted_at IS NULL"),
        sqlite_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(op.f("ix_tickets_event_id"), table_name="tickets")

    op.drop_table("tickets")
    op.drop_index(op.f("ix_speakers_event_id"), table_name="speakers")

    op.drop_table("speakers")
    op.drop_index(op.f("ix_microlocations_event_id"), table_name="microlocations")

    op.drop_table("microlocations")
    op.drop_index(op.f("ix_event_roles_user_id"), table_name="event_roles")

    op.drop_table("event_roles")
    op.drop_index(op.f("ix_events_event_type_id"), table_name="events")

    op.drop_table("events")
    op.drop_table("users")
    op.drop_table("event_types")
