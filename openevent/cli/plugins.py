"""``openevent plugins``: which plugins are installed, which of them load, and a new one."""

import sys
from pathlib import Path

from openevent.cli.common import add_config_argument, load_config
from openevent.config import configure
from openevent.plugins import PLUGINS_KEY, PluginState
from openevent.scaffold import ScaffoldError, create


def register(commands) -> None:
    plugins = commands.add_parser(
        "plugins",
        help="installed plugins",
        description="Inspect the plugins installed next to openevent (entry point group "
        "openevent.plugins) and what openevent.plugins / openevent.plugins.disabled make of them.",
    )
    actions = plugins.add_subparsers(title="actions", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list", help="name, version and state of each plugin, with why it is not active"
    )
    add_config_argument(listing)
    listing.set_defaults(handler=_list)

    new = actions.add_parser(
        "new",
        help="create a plugin distribution to start from, its tests passing",
        description="Write a working plugin distribution: pyproject.toml with the entry point, "
        "a package with includeme, a table and its alembic branch, a change subscriber, a job, "
        "a route, and tests. docs/plugins.md walks through it.",
    )
    new.add_argument(
        "name",
        metavar="NAME",
        help="the plugin's name: lowercase letters, digits and underscores (e.g. badges)",
    )
    new.add_argument(
        "--directory",
        metavar="DIR",
        type=Path,
        help="the folder to create (default: ./openevent-NAME); it must not exist",
    )
    new.set_defaults(handler=_new)


def _list(args):
    # Built like the web app, so includeme failures show up too; the database is not touched.
    config = configure(load_config(args.config_uri))
    try:
        plugins = sorted(config.registry[PLUGINS_KEY].values(), key=lambda p: p.name)
    finally:
        config.registry["dbengine"].dispose()
    if not plugins:
        print("no plugins installed (entry point group openevent.plugins)")
        return 0
    rows = [
        (
            p.name,
            p.version or "-",
            p.state.value,
            p.description if p.state is PluginState.ACTIVE else p.reason,
        )
        for p in plugins
    ]
    header = ("NAME", "VERSION", "STATE", "DETAILS")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(3)]
    for row in (header, *rows):
        columns = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*columns, row[3]]))
    return 0


def _new(args):
    try:
        folder = create(args.name, args.directory)
    except ScaffoldError as exc:
        print(f"openevent: {exc}", file=sys.stderr)
        return 1
    print(f"created plugin {args.name} in {folder}")
    print(f"next: pip install -e '{folder}[testing]' && (cd {folder} && pytest)")
    return 0
