import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from openevent.models import User
from openevent.testing import make_user


def test_email_is_unique_case_insensitively(dbsession):
    make_user(dbsession, email="Ada@Example.org")
    with pytest.raises(IntegrityError):
        make_user(dbsession, email="ada@example.ORG")


def test_email_is_stored_lower_cased(dbsession):
    assert make_user(dbsession, email="  Grace@Example.ORG ").email == "grace@example.org"


def test_database_refuses_mixed_case_email(dbsession, db_connection):
    make_user(dbsession, email="lin@example.org")
    with pytest.raises(IntegrityError):
        db_connection.execute(text("UPDATE users SET email = 'Lin@example.org'"))


def test_password_is_hashed_and_checked(dbsession):
    user = make_user(dbsession, password="s3cret passphrase")
    assert "s3cret" not in user.password_hash
    assert user.password_hash.startswith("$argon2")
    assert user.check_password("s3cret passphrase")
    assert not user.check_password("S3cret passphrase")


def test_a_damaged_hash_never_matches():
    user = User(email="x@example.org", password_hash="not-a-hash")
    assert not user.check_password("anything")


def test_created_at_is_set(dbsession):
    assert make_user(dbsession).created_at.tzinfo is not None
