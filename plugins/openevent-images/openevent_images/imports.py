"""Images in an imported Open Event export: kept as uploads are (``originals.py``).

openevent's importer hands this plugin the archive's files named by an event's
``original-image-url`` or ``logo-url`` and a speaker's ``photo-url``, for events the plugin acts
for (``config.add_import_media_handler``). What is not an image an upload could be (too large,
not a JPEG, PNG, WebP or GIF, in a format the site's ``images.formats`` leaves out, corrupt, a
decompression bomb) is refused with the reason, and the importer leaves the attribute empty and
reports it. The imported rows then carry the original's URL, and their creation starts the
resizing as an upload's does (``subscribers.py``).
"""

from openevent.importer.media import MediaRejected
from openevent.storage import STORAGE_KEY
from openevent_images.originals import store_original
from openevent_images.processing import ImageRejected
from openevent_images.settings import KINDS, SETTINGS_KEY

# (resource type, API attribute) of every image the plugin resizes.
FIELDS = frozenset((kind.model, kind.source.replace("_", "-")) for kind in KINDS.values())


def store_imported_image(registry, event_id: int, stream) -> str:
    """Store the image in ``stream`` as an original of the event; its key."""
    settings = registry[SETTINGS_KEY]
    data = stream.read(settings.max_bytes + 1)
    if len(data) > settings.max_bytes:
        raise MediaRejected(f"the image is larger than {settings.max_bytes} bytes")
    try:
        key, _ = store_original(
            registry[STORAGE_KEY], event_id, data, settings.max_pixels, settings.formats
        )
    except ImageRejected as exc:
        raise MediaRejected(exc.detail) from None
    return key


def includeme(config):
    config.add_import_media_handler(store_imported_image, FIELDS)
