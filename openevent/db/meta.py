"""The declarative base every openevent table, core or plugin, derives from."""

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Enum, MetaData, Numeric
from sqlalchemy.orm import DeclarativeBase

from openevent.db.types import UTCDateTime

# Constraint names are fixed by convention so that migrations are the same on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with the naming convention and openevent's column types."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        Decimal: Numeric(12, 2),
        # Enums are stored by value, as VARCHAR with a CHECK constraint, on every database.
        enum.Enum: Enum(
            enum.Enum,
            native_enum=False,
            create_constraint=True,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        ),
    }
