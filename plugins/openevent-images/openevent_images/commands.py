"""``openevent images reprocess CONFIG [--event ID]``: resize every image again.

After a change of sizes, quality or formats in the settings. Runs in the command's process,
one image at a time, with a progress bar: each image is rendered and stored first, then its
row is updated in a short transaction of its own (if it still holds the same image), then the
files it no longer uses are deleted, as the jobs do.
"""

from sqlalchemy import select

from openevent.cli.api import add_config_argument, app_registry, progress, transaction_scope
from openevent.models import Event, Speaker
from openevent.storage import STORAGE_KEY
from openevent_images.jobs import (
    apply_outputs,
    delete_unreferenced,
    make_outputs,
    referenced_urls,
)
from openevent_images.settings import KINDS, SETTINGS_KEY


def register(commands):
    parser = commands.add_parser("images", help="image processing (openevent-images)")
    actions = parser.add_subparsers(dest="images_command", required=True, metavar="COMMAND")
    reprocess = actions.add_parser(
        "reprocess", help="resize every uploaded image again, with the current settings"
    )
    add_config_argument(reprocess)
    reprocess.add_argument("--event", type=int, metavar="ID", help="only this event's images")
    reprocess.set_defaults(handler=reprocess_images)


def _images(dbsession, event_id: int | None) -> list[tuple[str, int, int, str]]:
    """(kind, row id, event id, URL) of every image attribute that holds a URL."""
    images = []
    for kind in KINDS.values():
        model = Event if kind.model == "event" else Speaker
        owner = model.id if model is Event else model.event_id
        source = getattr(model, kind.source)
        query = select(model.id, owner, source).where(source.is_not(None))
        if event_id is not None:
            query = query.where(owner == event_id)
        images += [(kind.name, *row) for row in dbsession.execute(query.order_by(model.id))]
    return images


def reprocess_images(args) -> int:
    with app_registry(args.config_uri) as registry:
        settings, storage = registry[SETTINGS_KEY], registry[STORAGE_KEY]
        with transaction_scope(registry) as dbsession:
            images = _images(dbsession, args.event)
        processed_count = 0
        for kind, row_id, event_id, url in progress(
            images, total=len(images), description="images"
        ):
            processed = make_outputs(storage, settings, kind, event_id, url, again=True)
            if processed.written:
                processed_count += 1
            with transaction_scope(registry) as dbsession:
                replaced = apply_outputs(dbsession, kind, row_id, event_id, url, None, processed)
            if replaced:
                with transaction_scope(registry) as dbsession:
                    referenced = referenced_urls(dbsession, event_id)
                delete_unreferenced(storage, event_id, referenced, replaced)
    print(f"{processed_count} of {len(images)} images processed")
    return 0
