"""The ``openevent`` command. Each sub-command module adds its parser with ``register()``."""

import argparse
import sys
from importlib.metadata import entry_points

from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError

from openevent import __version__
from openevent.cli import db, importing, jobs, plugins, shell, storage, worker
from openevent.cli.api import ENTRY_POINT_GROUP
from openevent.settings import SettingsError

COMMANDS = (db, importing, jobs, plugins, shell, storage, worker)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openevent",
        description="Run and maintain an openevent server. Every command takes the app's ini "
        "file (CONFIG), e.g. development.ini, and honours OPENEVENT_* environment overrides.",
    )
    parser.add_argument("--version", action="version", version=f"openevent {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(commands)
    _register_plugin_commands(commands)
    return parser


def _register_plugin_commands(commands) -> None:
    """Add the commands of the entry point group openevent.commands (see openevent.cli.api)."""
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        where = f"{entry_point.name} = {entry_point.value}"
        if entry_point.name in commands.choices:
            print(f"openevent: command {where}: the name is taken; skipped", file=sys.stderr)
            continue
        try:
            entry_point.load()(commands)
        except Exception as exc:  # a plugin's bug must not take `openevent db upgrade` down
            print(f"openevent: command {where} failed to load: {exc!r}; skipped", file=sys.stderr)


def main(argv=None) -> int:
    """Entry point of the ``openevent`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except SettingsError as exc:
        print(f"openevent: configuration error: {exc}", file=sys.stderr)
        return 2
    except (CommandError, RevisionError) as exc:
        # alembic's own errors (an unknown revision, say) are for the operator, not a traceback.
        print(f"openevent: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
