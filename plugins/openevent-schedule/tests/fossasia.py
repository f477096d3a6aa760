"""Test data: the FOSSASIA Summit 2017 sample (an Open Event export) as rows of openevent's
models, until the importer reads such folders. Only what the site shows is kept."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from openevent.models import (
    Event,
    EventState,
    Microlocation,
    Session,
    SessionState,
    Speaker,
    Track,
)

# The project's shared samples sit beside the checkout (as in CI); OPENEVENT_SAMPLES names
# the folder elsewhere.
SAMPLES = Path(
    os.environ.get("OPENEVENT_SAMPLES")
    or Path(__file__).resolve().parents[3].parent / "shared" / "samples" / "open-event"
)
FOSSASIA = SAMPLES / "FOSSASIASummit2017"


def _read(name: str):
    return json.loads((FOSSASIA / name).read_text())


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _speaker_fields(item: dict) -> dict:
    """The speaker's attributes, from the sample's dasherized keys."""
    return {
        "name": item["name"].strip() or "Anonymous",
        "photo_url": item.get("photo-url") or None,
        "organisation": item.get("organisation") or None,
        "website": item.get("website") or None,
        "twitter": item.get("twitter") or None,
        "github": item.get("github") or None,
        "linkedin": item.get("linkedin") or None,
        "short_biography": item.get("short-biography") or None,
        "long_biography": item.get("long-biography") or None,
    }


def load_fossasia(dbsession, identifier: str = "fossasia17") -> Event:
    """Add the sample event, published, with its rooms, tracks, sessions and speakers."""
    data = _read("event")
    event = Event(
        identifier=identifier,
        name=data["name"],
        description=data.get("description"),
        starts_at=_time(data["starts-at"]),
        ends_at=_time(data["ends-at"]),
        timezone=data["timezone"],
        location_name=(data.get("location-name") or "").strip() or None,
        logo_url=data.get("logo-url"),
        original_image_url=data.get("original-image-url"),
        state=EventState.PUBLISHED,
    )
    dbsession.add(event)
    rooms = {
        item["id"]: Microlocation(event=event, name=item["name"], position=position)
        for position, item in enumerate(_read("microlocations"))
    }
    tracks = {
        item["id"]: Track(event=event, name=item["name"], color=item.get("color"))
        for item in _read("tracks")
    }
    speakers = {
        item["id"]: Speaker(event=event, **_speaker_fields(item)) for item in _read("speakers")
    }
    for item in _read("sessions"):
        dbsession.add(
            Session(
                event=event,
                title=item["title"],
                subtitle=item.get("subtitle") or None,
                short_abstract=item.get("short-abstract") or None,
                long_abstract=item.get("long-abstract") or None,
                language=item.get("language") or None,
                level=item.get("level") or None,
                state=SessionState(item["state"]),
                starts_at=_time(item.get("starts-at")),
                ends_at=_time(item.get("ends-at")),
                track=tracks.get((item.get("track") or {}).get("id")),
                microlocation=rooms.get((item.get("microlocation") or {}).get("id")),
                speakers=[
                    speakers[s["id"]] for s in item.get("speakers", []) if s["id"] in speakers
                ],
            )
        )
    dbsession.add_all([*rooms.values(), *tracks.values(), *speakers.values()])
    dbsession.flush()
    return event
