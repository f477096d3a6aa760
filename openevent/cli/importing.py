"""``openevent import CONFIG PATH``: an Open Event export (zip or folder) becomes a new event."""

import argparse
import json
import sys
from pathlib import Path

from sqlalchemy import select

from openevent.cli.api import app_registry, progress_bar
from openevent.cli.common import add_config_argument
from openevent.db import transaction_scope
from openevent.importer import ImportFailed, import_archive
from openevent.models import User
from openevent.settings import as_base_url

STAGES = ("read", "loaded", "written")


def register(commands) -> None:
    parser = commands.add_parser(
        "import",
        help="import an Open Event export as a new event",
        description="Read an Open Event export (a zip, or the folder it unpacks to) into a new "
        "draft event. Whatever the export holds that has one clear repair is repaired, what "
        "cannot be imported is skipped, and the report lists both; --strict refuses instead. "
        "Nothing is written unless the whole import succeeds. See docs/import.md.",
    )
    add_config_argument(parser)
    parser.add_argument("path", metavar="PATH", type=Path, help="the export: a .zip or a folder")
    parser.add_argument(
        "--owner",
        metavar="EMAIL",
        help="the user who owns the new event (default: the only admin user, if there is one)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="refuse an export that needs any repair or skip"
    )
    parser.add_argument(
        "--report", metavar="FILE", type=Path, help="also write the report as JSON to FILE"
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        type=_base_url,
        help="this site's address (https://events.example.org): the URLs of the export's media "
        "files start with it when the storage serves them at the app's /files/ paths",
    )
    parser.set_defaults(handler=_import)


def _base_url(value: str) -> str:
    """An http(s) URL with a host, as argparse's ``type``: a bad one is a usage error."""
    try:
        url = as_base_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if url.startswith("/"):
        raise argparse.ArgumentTypeError("expected an http(s):// URL with a host")
    return url


def _owner_id(dbsession, email: str | None) -> int:
    if email is not None:
        user_id = dbsession.scalar(select(User.id).where(User.email == email.strip().lower()))
        if user_id is None:
            raise ImportFailed(f"no user with the email address {email}")
        return user_id
    admins = dbsession.scalars(select(User.id).where(User.is_admin).limit(2)).all()
    if len(admins) != 1:
        raise ImportFailed("name the new event's owner with --owner EMAIL")
    return admins[0]


def _import(args) -> int:
    if not args.path.exists():
        print(f"openevent import: {args.path}: no such file or folder", file=sys.stderr)
        return 2
    try:
        with (
            progress_bar(total=len(STAGES), description="import") as bar,
            app_registry(args.config_uri) as registry,
            transaction_scope(registry) as dbsession,
        ):
            owner_id = _owner_id(dbsession, args.owner)
            event, report = import_archive(
                dbsession,
                args.path,
                owner_id=owner_id,
                strict=args.strict,
                base_url=args.base_url,
                progress=lambda stage: bar.update(1),
            )
            event_id = event.id
    except ImportFailed as exc:
        print(f"openevent import: failed, nothing imported: {exc}", file=sys.stderr)
        return 1
    document = report.as_dict()
    if args.report:
        args.report.write_text(json.dumps({"event-id": event_id, **document}, indent=2))
    counts = ", ".join(f"{count} {name}" for name, count in document["counts"].items())
    print(f"imported event {event_id}: {counts}")
    for finding in report.findings:
        where = finding.file + (f" id {finding.id}" if finding.id is not None else "")
        print(f"  {finding.kind}: {where}: {finding.reason}")
    for file, keys in document["ignored-keys"].items():
        listed = ", ".join(f"{key} ({count})" for key, count in keys.items())
        print(f"  not stored, from {file}: {listed}")
    return 0
