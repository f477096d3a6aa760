"""The data model. Importing this package registers every core table on ``Base.metadata``."""

from openevent.models.auth import AuthToken
from openevent.models.event import Event, EventRole, EventState, EventType, Role
from openevent.models.imports import ImportJob, ImportState
from openevent.models.jobs import JobDelivery, JobFailure, OutboxMessage
from openevent.models.plugin import EventPlugin
from openevent.models.program import (
    Microlocation,
    Session,
    SessionState,
    Speaker,
    Track,
    session_speakers,
)
from openevent.models.ticket import Ticket
from openevent.models.user import User

__all__ = [
    "AuthToken",
    "Event",
    "EventPlugin",
    "EventRole",
    "EventState",
    "EventType",
    "ImportJob",
    "ImportState",
    "JobDelivery",
    "JobFailure",
    "Microlocation",
    "OutboxMessage",
    "Role",
    "Session",
    "SessionState",
    "Speaker",
    "Ticket",
    "Track",
    "User",
    "session_speakers",
]
