"""Accounts."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from openevent.db.meta import Base
from openevent.models.mixins import CreatedMixin

_hasher = PasswordHasher()


class User(CreatedMixin, Base):
    """A person who logs in. Emails are stored lower-cased, hence unique case-insensitively."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lower_case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)

    roles: Mapped[list["EventRole"]] = relationship(  # noqa: F821
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @validates("email")
    def _normalize_email(self, key, email: str) -> str:
        return email.strip().lower()

    def set_password(self, password: str) -> None:
        """Store an argon2 hash of ``password``; the password itself is never kept."""
        self.password_hash = _hasher.hash(password)

    def check_password(self, password: str) -> bool:
        """True if ``password`` matches the stored hash."""
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
