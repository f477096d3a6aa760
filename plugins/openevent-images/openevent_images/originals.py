"""Originals: an image's bytes, checked from the bytes alone, stored as they came under a key of
the event's own (``keys.py``). Uploads (``views.py``) and imports (``imports.py``) both keep
their images this way, so both are processed alike when an image attribute is set to them.
"""

from openevent.storage import IMMUTABLE
from openevent_images.keys import new_token, original_key
from openevent_images.processing import Inspected, inspect


def store_original(
    storage, event_id: int, data: bytes, max_pixels: int, formats
) -> tuple[str, Inspected]:
    """Store ``data`` as an original of the event; its key and what it is. Raises
    :class:`~openevent_images.processing.ImageRejected` for what is not an image it takes, of
    more than ``max_pixels`` or in none of ``formats`` (the ``images.formats`` setting)."""
    image = inspect(data, max_pixels, formats)
    key = original_key(event_id, new_token(), image.extension)
    # A new original gets a new key: this one never changes.
    storage.put(key, data, image.content_type, public=True, cache_control=IMMUTABLE)
    return key, image
