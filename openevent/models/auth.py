"""Bearer tokens issued at login."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from openevent.db.meta import Base
from openevent.models.mixins import CreatedMixin
from openevent.models.user import User


class AuthToken(CreatedMixin, Base):
    """A login. Only a keyed hash of the token is stored, so a database leak yields no tokens."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
