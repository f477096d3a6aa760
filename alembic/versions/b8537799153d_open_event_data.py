"""What Open Event exports carry: session types, sponsors, social links, and the attributes of
events, sessions, speakers, tracks and rooms that organizers fill in (docs/data-model.md).

Speakers' ``bio`` becomes ``short_biography`` (Open Event's name) by a rename, which keeps
every biography; ``long_biography`` is new. Every other column is new and nullable, or has a
server default (``privacy``, ``is_featured``), so existing rows need no filling.

Revision ID: b8537799153d
Revises: e4a7c2f91b3d
Create Date: 2026-12-02 07:39:01.567050
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from openevent.db import migration_ops

revision: str = "b8537799153d"
down_revision: str | Sequence[str] | None = "e4a7c2f91b3d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _event_table(name: str, *columns: sa.Column) -> None:
    """A table of rows that belong to one event, with the usual timestamps."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        *columns,
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=f"fk_{name}_event_id_events", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(f"ix_{name}_event_id", ["event_id"], unique=False)


def _url(name: str) -> sa.Column:
    return sa.Column(name, sa.String(length=2048), nullable=True)


def upgrade() -> None:
    _event_table(
        "session_types",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("length_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "length_minutes >= 1 AND length_minutes <= 1440",
            name=op.f("ck_session_types_length_in_range"),
        ),
    )
    _event_table(
        "social_links",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("link", sa.String(length=2048), nullable=False),
    )
    _event_table(
        "sponsors",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _url("url"),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("sponsor_type", sa.String(length=255), nullable=True),
        _url("logo_url"),
    )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("organizer_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("organizer_description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("code_of_conduct", sa.Text(), nullable=True))
        batch_op.add_column(_url("external_event_url"))
        batch_op.add_column(_url("ticket_url"))
        batch_op.add_column(
            sa.Column(
                "privacy",
                sa.Enum(
                    "public",
                    "private",
                    name="eventprivacy",
                    native_enum=False,
                    create_constraint=True,
                ),
                server_default="public",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("schedule_published_on", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("copyright_holder", sa.String(length=255), nullable=True))
        batch_op.add_column(_url("copyright_holder_url"))
        batch_op.add_column(sa.Column("copyright_licence", sa.String(length=255), nullable=True))
        batch_op.add_column(_url("copyright_licence_url"))
        batch_op.add_column(sa.Column("copyright_year", sa.Integer(), nullable=True))
        batch_op.add_column(_url("copyright_logo_url"))

    with op.batch_alter_table("microlocations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("floor", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("room", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("latitude", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Double(), nullable=True))

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(_url("slides_url"))
        batch_op.add_column(_url("video_url"))
        batch_op.add_column(_url("audio_url"))
        batch_op.add_column(_url("signup_url"))
        batch_op.add_column(sa.Column("session_type_id", sa.Integer(), nullable=True))
        # The ALTER TABLE above already holds sessions' exclusive lock until this transaction
        # commits, and the new column is NULL in every row: the index and the key add only a
        # scan of one table (a site's sessions), which CONCURRENTLY or NOT VALID would not
        # shorten while that lock is held.
        batch_op.create_index(  # lint: accept require-concurrent-index-creation: see above
            "ix_sessions_session_type_id", ["session_type_id"], unique=False
        )
        batch_op.create_foreign_key(  # lint: accept constraint-missing-not-valid: see above
            "fk_sessions_session_type_id_session_types",
            "session_types",
            ["session_type_id"],
            ["id"],
            ondelete="SET NULL",
        )

    migration_ops.rename_column("speakers", "bio", "short_biography")
    with op.batch_alter_table("speakers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("long_biography", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("is_featured", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(_url("facebook"))

    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("font_color", sa.String(length=7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.drop_column("font_color")
        batch_op.drop_column("description")

    with op.batch_alter_table("speakers", schema=None) as batch_op:
        batch_op.drop_column("facebook")
        batch_op.drop_column("is_featured")
        batch_op.drop_column("long_biography")
        batch_op.drop_column("city")
        batch_op.drop_column("country")
        batch_op.drop_column("position")
    migration_ops.rename_column("speakers", "short_biography", "bio")

    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_sessions_session_type_id_session_types", type_="foreignkey")
        batch_op.drop_index("ix_sessions_session_type_id")
        batch_op.drop_column("session_type_id")
        batch_op.drop_column("signup_url")
        batch_op.drop_column("audio_url")
        batch_op.drop_column("video_url")
        batch_op.drop_column("slides_url")

    with op.batch_alter_table("microlocations", schema=None) as batch_op:
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
        batch_op.drop_column("room")
        batch_op.drop_column("floor")

    with op.batch_alter_table("events", schema=None) as batch_op:
        # Before its column: SQLite's copy of the table would keep a CHECK naming it.
        batch_op.drop_constraint(op.f("ck_events_eventprivacy"), type_="check")
        for column in (
            "copyright_logo_url",
            "copyright_year",
            "copyright_licence_url",
            "copyright_licence",
            "copyright_holder_url",
            "copyright_holder",
            "schedule_published_on",
            "privacy",
            "ticket_url",
            "external_event_url",
            "code_of_conduct",
            "organizer_description",
            "organizer_name",
            "email",
            "longitude",
            "latitude",
        ):
            batch_op.drop_column(column)

    for name in ("sponsors", "social_links", "session_types"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{name}_event_id")
        op.drop_table(name)
