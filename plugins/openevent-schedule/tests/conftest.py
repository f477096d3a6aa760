"""Fixtures of the schedule plugin's tests, on top of openevent.testing's."""

import pytest

from openevent.models import EventState
from openevent.testing import JSONAPI_HEADERS, make_event, make_user


@pytest.fixture
def owner(dbsession):
    return make_user(dbsession, password=None)


@pytest.fixture
def headers(token_for, owner):
    """JSON:API request headers with the event owner's token."""
    return {**token_for(owner), **JSONAPI_HEADERS}


@pytest.fixture
def event(dbsession, owner):
    return make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
