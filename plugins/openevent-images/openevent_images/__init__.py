"""openevent-images: image uploads, resized in jobs to the sizes apps show.

- ``POST /v1/events/{id}/uploads/images`` stores an original, checked from its bytes
  (``views.py``);
- setting an event's ``original-image-url`` or ``logo-url``, or a speaker's ``photo-url``, to
  such an upload starts a job (``subscribers.py``) that makes the sizes (``processing.py``),
  stores them (``keys.py``) and fills the derived columns (``jobs.py``);
- images of an imported export are stored as uploads are (``imports.py``), and processed alike;
- ``openevent images reprocess CONFIG [--event ID]`` makes them again (``commands.py``).

Site-wide settings: ``images.*`` (``settings.py``, and the README's table).
"""

from PIL import Image

# Importing the jobs registers them with the broker.
from openevent_images import jobs  # noqa: F401
from openevent_images.settings import SETTINGS_KEY, read_settings

requires_openevent = ">=0.1,<0.2"
description = "Image uploads, resized in jobs: event banners and logos, speaker photos"


def includeme(config):
    settings = read_settings(config.get_settings())
    config.registry[SETTINGS_KEY] = settings
    # Pillow itself refuses larger images (DecompressionBombError) before decoding any pixel;
    # the upload's own check answers 422 first, from the same setting.
    Image.MAX_IMAGE_PIXELS = settings.max_pixels
    config.include(".views")
    config.include(".subscribers")
    config.include(".imports")
