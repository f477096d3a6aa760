"""The ``sample-notes`` command: how many notes each event (or one event) has."""

from sqlalchemy import func, select

from openevent.cli.api import add_config_argument, app_registry, progress, transaction_scope
from openevent_sample_plugin.models import SampleNote


def register(commands):
    parser = commands.add_parser("sample-notes", help="count the notes of each event")
    add_config_argument(parser)
    parser.add_argument("--event", type=int, metavar="ID", help="only this event")
    parser.set_defaults(handler=count_notes)


def count_notes(args):
    query = select(SampleNote.event_id, func.count()).group_by(SampleNote.event_id)
    if args.event is not None:
        query = query.where(SampleNote.event_id == args.event)
    with app_registry(args.config_uri) as registry, transaction_scope(registry) as dbsession:
        rows = dbsession.execute(query.order_by(SampleNote.event_id)).all()
    for event_id, count in progress(rows, total=len(rows), description="events"):
        print(f"event {event_id}: {count} notes")
    return 0  # the exit status
