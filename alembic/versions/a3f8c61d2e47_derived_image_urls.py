"""Events and speakers get the URLs of their images' resized copies.

Open Event's own attributes: an event's banner in three sizes (``large_image_url``,
``thumbnail_image_url``, ``icon_image_url``) and a speaker's photo in three
(``thumbnail_image_url``, ``small_image_url``, ``icon_image_url``). They are read-only in the
API; an image plugin (openevent-images) fills them from the uploaded original. Existing rows
start without them (NULL): no image has been resized yet.

Revision ID: a3f8c61d2e47
Revises: b8537799153d
Create Date: 2026-12-02 07:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3f8c61d2e47"
down_revision: str | Sequence[str] | None = "b8537799153d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "events": ("large_image_url", "thumbnail_image_url", "icon_image_url"),
    "speakers": ("thumbnail_image_url", "small_image_url", "icon_image_url"),
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.add_column(sa.Column(column, sa.String(length=2048), nullable=True))


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_column(column)
