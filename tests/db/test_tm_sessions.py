"""Sessions joined to a transaction manager: committed with it, and only through it."""

import pytest
import transaction
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from openevent.db import get_tm_session
from openevent.models import Event
from openevent.testing import make_event


def _events_named(registry, name) -> int:
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        dbsession = get_tm_session(registry["dbsession_factory"], manager)
        return dbsession.scalar(select(func.count()).where(Event.name == name))


@pytest.mark.parametrize("commit", [True, False])
def test_a_session_of_the_apps_factory_ends_with_its_manager(registry, db_connection, commit):
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    dbsession = get_tm_session(registry["dbsession_factory"], manager)
    make_event(dbsession, name="Joined")
    dbsession.flush()
    manager.commit() if commit else manager.abort()

    assert _events_named(registry, "Joined") == (1 if commit else 0)


def test_a_session_of_a_factory_made_elsewhere_is_refused(db_connection):
    # Its sessions would not join the manager: their writes would never be committed.
    with pytest.raises(ValueError, match="get_session_factory"):
        get_tm_session(sessionmaker(bind=db_connection), transaction.TransactionManager())
