"""The data model. Importing this package registers every core table on ``Base.metadata``."""

from openevent.models.auth import AuthToken
from openevent.models.event import Event, EventPrivacy, EventRole, EventState, EventType, Role
from openevent.models.imports import ImportJob, ImportState
from openevent.models.jobs import JobDelivery, JobFailure, OutboxMessage
from openevent.models.plugin import EventPlugin
from openevent.models.program import (
    Microlocation,
    Session,
    SessionState,
    SessionType,
    Speaker,
    Track,
    session_speakers,
)
from openevent.models.sponsor import SocialLink, Sponsor
from openevent.models.ticket import Ticket
from openevent.models.user import User

__all__ = [
    "AuthToken",
    "Event",
    "EventPlugin",
    "EventPrivacy",
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
    "SessionType",
    "SocialLink",
    "Speaker",
    "Sponsor",
    "Ticket",
    "Track",
    "User",
    "session_speakers",
]
