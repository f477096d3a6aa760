"""``openevent export CONFIG EVENT --format F [--output PATH]``: an export, from a shell.

The same formats and files as ``POST /v1/events/{id}/exports``, written to a local file
(through a temporary file beside it, renamed into place when whole), with a progress bar.
"""

from __future__ import annotations

import os
import sys
import tempfile

from openevent.cli.api import add_config_argument, app_registry, progress, transaction_scope
from openevent_exports.exporting import write_export
from openevent_exports.formats import FORMATS
from openevent_exports.snapshot import EventNotFound


def register(commands):
    parser = commands.add_parser("export", help="write an event's export to a file")
    add_config_argument(parser)
    parser.add_argument("event", type=int, metavar="EVENT", help="the event's id")
    parser.add_argument("--format", required=True, choices=list(FORMATS), dest="format_name")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a format option (include-media=true, day-change-hour=5)",
    )
    parser.add_argument("--output", metavar="PATH", help="default: the format's file name")
    parser.set_defaults(handler=export)


def _options(fmt, pairs: list[str]) -> tuple[dict, dict]:
    raw = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        option = fmt.options.get(name)
        if option is not None and option.kind is bool:
            raw[name] = {"true": True, "false": False}.get(value.lower(), value)
        elif option is not None and option.kind is int and value.lstrip("-").isdigit():
            raw[name] = int(value)
        else:
            raw[name] = value
    return fmt.parse_options(raw)


def export(args) -> int:
    fmt = FORMATS[args.format_name]
    options, errors = _options(fmt, args.option)
    if errors:
        for detail in errors.values():
            print(f"openevent export: {detail}", file=sys.stderr)
        return 2
    output = os.path.abspath(args.output or fmt.filename)
    bar = progress(iter(int, 1), total=100, description=f"{fmt.name} of event {args.event}")
    done = [0]

    def advance(percent: int) -> None:
        bar.update(max(0, percent - done[0]))
        done[0] = max(done[0], percent)

    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(output), prefix=".export-")
    try:
        with (
            app_registry(args.config_uri) as registry,
            transaction_scope(registry) as dbsession,
            os.fdopen(descriptor, "wb") as stream,
        ):
            write_export(dbsession, registry, args.event, fmt.name, options, stream, advance)
        os.replace(temporary, output)
    except EventNotFound:
        print(f"openevent export: no event with id {args.event}", file=sys.stderr)
        return 1
    finally:
        bar.close()
        if os.path.exists(temporary):
            os.unlink(temporary)
    print(output)
    return 0
