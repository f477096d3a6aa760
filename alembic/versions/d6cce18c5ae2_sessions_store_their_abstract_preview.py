"""Sessions store their abstract preview, computed when an abstract is written, not per read.

Existing rows get theirs here, computed in Python by the function the app uses (previews parse
HTML, which SQL cannot do), a batch of rows at a time so that memory stays bounded.

Revision ID: d6cce18c5ae2
Revises: 9c41e7d2a8f3
Create Date: 2026-12-02 04:35:26.387179
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from openevent.previews import abstract_preview

revision: str = "d6cce18c5ae2"
down_revision: str | Sequence[str] | None = "9c41e7d2a8f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500

sessions = sa.table(
    "sessions",
    sa.column("id", sa.Integer()),
    sa.column("short_abstract", sa.Text()),
    sa.column("long_abstract", sa.Text()),
    sa.column("abstract_preview", sa.String(200)),
)


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("abstract_preview", sa.String(length=200), nullable=True))
    _fill_previews(op.get_bind())


def _fill_previews(bind) -> None:
    """Give every session with an abstract its preview, in batches by id."""
    with_abstract = sa.or_(
        sessions.c.short_abstract.is_not(None), sessions.c.long_abstract.is_not(None)
    )
    store = (
        sa.update(sessions)
        .where(sessions.c.id == sa.bindparam("row_id"))
        .values(abstract_preview=sa.bindparam("preview"))
    )
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(sessions.c.id, sessions.c.short_abstract, sessions.c.long_abstract)
            .where(sessions.c.id > last_id, with_abstract)
            .order_by(sessions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        previews = [
            {"row_id": id, "preview": preview}
            for id, short, long in rows
            if (preview := abstract_preview(short, long)) is not None
        ]
        if previews:
            bind.execute(store, previews)
        last_id = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("abstract_preview")
