"""The ``openevent`` command. Each sub-command module adds its parser with ``register()``."""

import argparse
import sys

from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError

from openevent import __version__
from openevent.cli import db, jobs, plugins, shell, worker
from openevent.settings import SettingsError

COMMANDS = (db, jobs, plugins, shell, worker)


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
    return parser


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
