"""Alembic, as openevent uses it: one config builder for the CLI, the tests and /healthz.

The core's migrations are one branch in ``alembic/versions``; each active plugin with tables adds
its own folder, holding a branch labelled with the plugin's name, so ``upgrade heads`` runs
them all and ``downgrade <plugin>@base`` removes one plugin's tables. Autogenerate compares the
tables of the core and the active plugins (``db check``), or of one branch only (``db revision``:
see :func:`compare_only` and :func:`plugin_revision`).
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, column, inspect, select, table

from openevent.db.autogen import Owner, include_tables_of, table_owners
from openevent.db.meta import Base
from openevent.plugins import PluginState, discover, migration_locations
from openevent.settings import load_settings

VERSION_TABLE = "alembic_version"


def script_location() -> str:
    """The folder holding env.py and versions/, in a checkout or an installed distribution.

    setup.py installs the repository's alembic/ folder as openevent/alembic; in a checkout (and
    an editable install) it stays beside the package.
    """
    package = Path(__file__).resolve().parent.parent
    installed = package / "alembic"
    return str(installed if installed.is_dir() else package.parent / "alembic")


def alembic_config(
    settings: Mapping[str, Any],
    config_file: str | None = None,
    connection: Connection | None = None,
) -> Config:
    """An alembic ``Config`` for the app's ``settings``.

    ``env.py`` takes the database from ``settings`` (raw ini strings or already typed), or runs
    on ``connection`` when one is given, as the tests do.
    """
    config = Config(config_file) if config_file else Config()
    config.set_main_option("script_location", script_location())
    typed = load_settings(settings)
    # Loading the plugins' entry points also puts their models on Base.metadata for env.py.
    locations = [str(Path(script_location()) / "versions"), *migration_locations(typed)]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    config.attributes["settings"] = typed
    if connection is not None:
        config.attributes["connection"] = connection
    # Every plugin installed, loaded or not, so that the tables of one left out (listed in
    # openevent.plugins.disabled, say) are known to be its own, not the core's to drop.
    plugins = discover(typed)
    config.attributes["table_owner"] = table_owners(Base.registry, plugins)
    compare_only(config, None, *(p.name for p in plugins if p.state is PluginState.ACTIVE))
    return config


def compare_only(config: Config, *owners: Owner) -> None:
    """Make autogenerate compare the models and the database on the tables of ``owners`` only
    (plugin names; None for the core's)."""
    config.attributes["include_object"] = include_tables_of(
        set(owners), config.attributes["table_owner"]
    )


class NoPluginBranch(LookupError):
    """``openevent db revision --plugin NAME`` cannot write for NAME; the message says why."""


def plugin_revision(settings: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The ``command.revision`` arguments of a new revision on plugin ``name``'s branch.

    The file goes into the plugin's migrations folder, after its branch's head; the branch's
    first revision (there is none yet) gets the branch label ``name`` and depends on the
    core's first revision (:func:`core_bases`), which made the tables it may refer to.
    """
    info = next((p for p in discover(load_settings(settings)) if p.name == name), None)
    if info is None:
        raise NoPluginBranch(
            f"no plugin named {name!r} is installed (`openevent plugins list CONFIG` lists them)"
        )
    if info.state is not PluginState.ACTIVE:
        raise NoPluginBranch(f"plugin {name} is {info.state.value}: {info.reason}")
    if info.migrations is None:
        raise NoPluginBranch(
            f"plugin {name} has no migrations folder: create one in its package and name it in "
            'its module, `migrations = "migrations"` (see docs/plugins.md)'
        )
    arguments: dict[str, Any] = {"version_path": info.migrations}
    heads = script_directory(settings).get_revisions("heads")
    if any(name in head.branch_labels for head in heads):
        return {**arguments, "head": f"{name}@head"}
    return {
        **arguments,
        "head": "base",
        "branch_label": name,
        "depends_on": list(core_bases()),
    }


def script_directory(settings: Mapping[str, Any]) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(settings))


def core_bases() -> tuple[str, ...]:
    """The first revision of openevent's own branch (one, unless the history is rewritten).

    It creates the public tables (events, sessions, speakers, ...), so a plugin's branch
    depends on it. Not on the core's head: while that is still a head, alembic would record
    the plugin's head alone in ``alembic_version`` (the dependency being implied), which the
    comparisons with the code's heads (``db check``, the schema guard) read as behind.
    """
    location = script_location()
    scripts = ScriptDirectory(location, version_locations=[str(Path(location) / "versions")])
    return tuple(sorted(scripts.get_bases()))


def core_heads(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The heads of openevent's own branch (those carrying no plugin's branch label)."""
    return tuple(
        sorted(
            script.revision
            for script in script_directory(settings).get_revisions("heads")
            if not script.branch_labels
        )
    )


def expected_heads(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The revisions this code expects the database to be at."""
    return tuple(sorted(script_directory(settings).get_heads()))


def current_heads(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at (empty for a database never migrated).

    Read straight from alembic's table: a MigrationContext would log on every /healthz probe.
    """
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(select(column("version_num")).select_from(table(VERSION_TABLE)))
    return tuple(sorted(rows.scalars()))
