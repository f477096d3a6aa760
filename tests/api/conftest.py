"""Shared set-up for API tests: a published event, its owner and the owner's headers."""

import pytest

from openevent.models import EventState
from openevent.testing import JSONAPI_HEADERS, make_event, make_user


@pytest.fixture
def owner(dbsession):
    return make_user(dbsession, email="owner@example.org")


@pytest.fixture
def headers(token_for, owner):
    """JSON:API request headers with the owner's token."""
    return {**token_for(owner), **JSONAPI_HEADERS}


@pytest.fixture
def event(dbsession, owner):
    return make_event(dbsession, owner=owner, state=EventState.PUBLISHED)
